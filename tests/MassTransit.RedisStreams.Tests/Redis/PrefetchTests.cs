namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Threading;
using System.Threading.Tasks;
using Infrastructure;
using Xunit;


/// <summary>
/// PrefetchCount bounds what an endpoint holds: entries read from Redis and not yet acknowledged, in handlers or buffered.
/// </summary>
public class PrefetchTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task An_endpoint_never_holds_more_unacknowledged_entries_than_its_prefetch_count()
    {
        const int prefetch = 5;
        const int sent = 30;
        var redis = await RedisTestContext.Create();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumed = 0;

        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("bounded", e =>
            {
                e.PrefetchCount = prefetch;
                e.ConcurrentMessageLimit = 1;
                e.Handler<AuctionEnded>(async _ =>
                {
                    await release.Task;
                    Interlocked.Increment(ref consumed);
                });
            });
        });

        await bus.StartAsync();
        try
        {
            var endpoint = await bus.GetSendEndpoint(new Uri("queue:bounded"));
            for (var i = 0; i < sent; i++)
                await endpoint.Send(new AuctionEnded(Guid.NewGuid(), "Lot " + i, i));

            var db = await redis.Database();
            async Task<long> Pending() => (await db.StreamPendingAsync(redis.Key("queue:bounded"), "bounded")).PendingMessageCount;

            Assert.True(await Eventually.True(async () => await Pending() == prefetch, Timeout), "the endpoint fills its prefetch");

            // While the handler is blocked, the endpoint may not read more; look a few times over a short while.
            for (var i = 0; i < 10; i++)
            {
                Assert.Equal(prefetch, await Pending());
                await Task.Delay(30);
            }

            release.SetResult();

            Assert.True(await Eventually.True(() => Volatile.Read(ref consumed) == sent, Timeout));
            Assert.True(await Eventually.True(async () => await Pending() == 0, Timeout));
        }
        finally
        {
            release.TrySetResult();
            await bus.StopAsync();
        }
    }
}
