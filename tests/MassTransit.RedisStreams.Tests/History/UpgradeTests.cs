namespace MassTransit.RedisStreams.Tests.History;

using System;
using System.Linq;
using System.Threading.Tasks;
using Contract;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Redis;
using Xunit;


/// <summary>
/// Events stored under an older contract — renamed into a stream of its own, or reshaped in the same stream — are read and
/// replayed as the current contract through a registered upgrade, so that changing a contract does not strand its history.
/// </summary>
public class UpgradeTests
{
    [Fact]
    public async Task Events_of_a_renamed_contract_are_part_of_the_history_of_the_new_one_upgraded_and_in_order()
    {
        var redis = await RedisTestContext.Create();

        // The application as it was: it published LotSoldV1 (stream events:LotSoldV1).
        await using (var before = await redis.StartHarness(_ => { }))
        {
            var bus = before.GetRequiredService<ITestHarness>().Bus;
            await bus.Publish(new LotSoldV1(1, 100));
            await bus.Publish(new LotSoldV1(2, 200));
        }

        // The application as it is: it publishes LotSold and knows how to read the old events.
        await using var after = await redis.StartHarness(_ => { }, (_, cfg) =>
            cfg.UpgradeEvent<LotSoldV1, LotSold>(old => new LotSold(old.Lot, "unknown", old.Pounds)));

        await after.GetRequiredService<ITestHarness>().Bus.Publish(new LotSold(3, "carol", 300.5m));

        var history = after.GetRequiredService<IRedisStreamsEventHistory>();
        var events = await history.ReadEvents<LotSold>().ToListAsync();

        Assert.Equal([new LotSold(1, "unknown", 100), new LotSold(2, "unknown", 200), new LotSold(3, "carol", 300.5m)],
            events.Select(x => x.Message));
        Assert.Equal([true, true, false], events.Select(x => x.Upgraded));
        Assert.EndsWith(":events:LotSoldV1", events[0].StreamKey);
        Assert.NotNull(events[0].MessageId);

        var newest = await history.GetEvents<LotSold>(count: 2);
        Assert.Equal([3, 2], newest.Select(x => x.Message!.Lot));
    }

    [Fact]
    public async Task Events_of_a_reshaped_contract_in_the_same_stream_are_upgraded_when_they_say_they_are_the_old_shape()
    {
        var redis = await RedisTestContext.Create();

        await using (var before = await redis.StartHarness(_ => { }))
            await before.GetRequiredService<ITestHarness>().Bus.Publish(new LotSoldLegacy(1, "12.50"));

        await using var after = await redis.StartHarness(_ => { }, (_, cfg) =>
            cfg.UpgradeEvent<LotSoldLegacy, LotSold>(old => new LotSold(old.Lot, "legacy", decimal.Parse(old.Price,
                System.Globalization.CultureInfo.InvariantCulture))));

        await after.GetRequiredService<ITestHarness>().Bus.Publish(new LotSold(2, "dave", 20m));

        var events = await after.GetRequiredService<IRedisStreamsEventHistory>().ReadEvents<LotSold>().ToListAsync();

        Assert.All(events, x => Assert.EndsWith(":events:LotSold", x.StreamKey));
        Assert.Equal([new LotSold(1, "legacy", 12.50m), new LotSold(2, "dave", 20m)], events.Select(x => x.Message));
        Assert.Equal([true, false], events.Select(x => x.Upgraded));
    }

    [Fact]
    public async Task Replayed_events_of_an_older_contract_reach_the_consumer_as_the_new_one()
    {
        var redis = await RedisTestContext.Create();

        await using (var before = await redis.StartHarness(_ => { }))
            await before.GetRequiredService<ITestHarness>().Bus.Publish(new LotSoldV1(1, 100));

        await using var after = await redis.StartHarness(_ => { }, (context, cfg) =>
        {
            cfg.UpgradeEvent<LotSoldV1, LotSold>(old => new LotSold(old.Lot, "unknown", old.Pounds));
            var seen = context.GetRequiredService<Recorder<LotSold>>();
            cfg.ReceiveEndpoint("ledger", e => e.Handler<LotSold>(ctx =>
            {
                seen.Add(ctx.Message);
                return Task.CompletedTask;
            }));
        }, services: s => s.AddSingleton<Recorder<LotSold>>());

        Assert.Equal(1, await after.GetRequiredService<IRedisStreamsEventHistory>().Replay<LotSold>("ledger"));

        Assert.Equal(new LotSold(1, "unknown", 100), Assert.Single(await after.GetRequiredService<Recorder<LotSold>>().WaitForCount(1)));
    }
}
