namespace MassTransit.RedisStreams.Tests.History;

using System;
using System.Linq;
using System.Threading.Tasks;
using Contract;
using Infrastructure;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// The log is kept, not only carried: events published, then everything stopped and Redis restarted from its append-only
/// file, are still there to read and to replay.
/// </summary>
public class HistorySurvivesRestartTests
{
    [RedisServerFact]
    public async Task Events_published_before_Redis_and_the_application_restarted_can_be_read_and_replayed()
    {
        using var server = RedisServerProcess.Start(appendOnly: true, appendFsync: "always");
        const string prefix = "restart";

        var lots = new Recorder<int>();
        IBusControl CreateBus() => Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(server.ConnectionString, h => h.KeyPrefix = prefix);
            cfg.ReceiveEndpoint("ledger", e =>
            {
                e.ConcurrentMessageLimit = 1;
                e.Handler<LotSold>(ctx =>
                {
                    lots.Add(ctx.Message.Lot);
                    return Task.CompletedTask;
                });
            });
        });

        var before = CreateBus();
        await before.StartAsync();
        for (var i = 1; i <= 20; i++)
            await before.Publish(new LotSold(i, "b", i));
        await lots.WaitForCount(20);
        await before.StopAsync();

        server.Restart();

        var after = CreateBus();
        await after.StartAsync();
        try
        {
            using var multiplexer = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
            var history = new RedisStreamsEventHistory(multiplexer, prefix);

            var events = await history.ReadEvents<LotSold>().ToListAsync();
            Assert.Equal(Enumerable.Range(1, 20), events.Select(x => x.Message!.Lot));

            Assert.Equal(20, await history.Replay<LotSold>("ledger"));
            Assert.Equal(Enumerable.Range(1, 20), (await lots.WaitForCount(40)).Skip(20));
        }
        finally
        {
            await after.StopAsync();
        }
    }
}
