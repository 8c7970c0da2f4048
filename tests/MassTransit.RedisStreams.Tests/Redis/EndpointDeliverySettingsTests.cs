namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// MaxDeliveryCount and ClaimTimeout set on a receive endpoint override the bus's for that endpoint only, as Azure Service
/// Bus users set them per queue.
/// </summary>
public class EndpointDeliverySettingsTests
{
    const string Ghost = "ghost";
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Two_endpoints_of_one_bus_move_an_entry_to_error_after_their_own_delivery_counts()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();

        // Each queue holds one entry already delivered three times to an instance that never acknowledged it; the next
        // delivery is its fourth: past the strict endpoint's limit of 3, within the lenient one's of 5.
        await SendUnacknowledged(redis, db, "strict", deliveries: 3, idle: TimeSpan.FromMinutes(1));
        await SendUnacknowledged(redis, db, "lenient", deliveries: 3, idle: TimeSpan.FromMinutes(1));

        var consumed = new ConcurrentQueue<string>();
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("strict", e =>
            {
                e.MaxDeliveryCount = 3;
                e.ClaimTimeout = TimeSpan.FromSeconds(1);
                e.Handler<AuctionEnded>(_ => Record(consumed, "strict"));
            });
            cfg.ReceiveEndpoint("lenient", e =>
            {
                e.MaxDeliveryCount = 5;
                e.ClaimTimeout = TimeSpan.FromSeconds(1);
                e.Handler<AuctionEnded>(_ => Record(consumed, "lenient"));
            });
        });

        await bus.StartAsync();
        try
        {
            Assert.True(await Eventually.True(() => consumed.Contains("lenient"), Timeout), "the lenient endpoint delivers its entry");
            Assert.True(await Eventually.True(async () => await db.StreamLengthAsync(redis.Key("queue:strict_error")) == 1, Timeout),
                "the strict endpoint moves its entry to strict_error");

            var entry = (await db.StreamRangeAsync(redis.Key("queue:strict_error"), "-", "+")).Single();
            Assert.Equal("max-deliveries", (string?)entry[MessageHeaders.Reason]);
            Assert.Contains("more than the MaxDeliveryCount of 3", (string?)entry[MessageHeaders.FaultMessage], StringComparison.Ordinal);
            Assert.DoesNotContain("strict", consumed);
            Assert.Equal(0, await db.StreamLengthAsync(redis.Key("queue:lenient_error")));
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [Fact]
    public async Task An_endpoint_with_a_short_claim_timeout_claims_an_idle_entry_that_one_with_the_bus_timeout_leaves()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();

        await SendUnacknowledged(redis, db, "quick", deliveries: 1, idle: TimeSpan.Zero);
        await SendUnacknowledged(redis, db, "patient", deliveries: 1, idle: TimeSpan.Zero);

        var consumed = new ConcurrentQueue<string>();
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h =>
            {
                h.KeyPrefix = redis.KeyPrefix;
                h.ClaimTimeout = TimeSpan.FromMinutes(5);
            });
            cfg.ReceiveEndpoint("quick", e =>
            {
                e.ClaimTimeout = TimeSpan.FromSeconds(1);
                e.Handler<AuctionEnded>(_ => Record(consumed, "quick"));
            });
            cfg.ReceiveEndpoint("patient", e => e.Handler<AuctionEnded>(_ => Record(consumed, "patient")));
        });

        await bus.StartAsync();
        try
        {
            Assert.True(await Eventually.True(() => consumed.Contains("quick"), Timeout), "the quick endpoint claims the idle entry");
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.DoesNotContain("patient", consumed);
            Assert.Equal(1, (await db.StreamPendingAsync(redis.Key("queue:patient"), "patient")).PendingMessageCount);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [Fact]
    public async Task An_endpoint_delivery_setting_out_of_range_is_refused_with_its_name()
    {
        var redis = await RedisTestContext.Create();

        var exception = Assert.ThrowsAny<ConfigurationException>(() => Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("broken", e =>
            {
                e.MaxDeliveryCount = 0;
                e.ClaimTimeout = TimeSpan.FromHours(2);
            });
        }));

        Assert.Contains("MaxDeliveryCount", exception.Message, StringComparison.Ordinal);
        Assert.Contains("ClaimTimeout", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_endpoint_that_moves_expired_messages_to_skipped_does_so_while_the_bus_default_drops_them()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();

        // An expiring message for each endpoint, sent before either reads: both have expired when they are read.
        var sender = Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix));
        await sender.StartAsync();
        try
        {
            var timeToLive = TimeSpan.FromMilliseconds(100);
            foreach (var queue in new[] { "keeping", "dropping" })
            {
                var endpoint = await sender.GetSendEndpoint(new Uri("queue:" + queue));
                await endpoint.Send(new AuctionEnded(Guid.NewGuid(), queue, 1), x => x.TimeToLive = timeToLive);
            }

            // Its time to live counts from when it was written, before the send returned.
            await Task.Delay(timeToLive + TimeSpan.FromMilliseconds(50));
        }
        finally
        {
            await sender.StopAsync();
        }

        var consumed = new ConcurrentQueue<string>();
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("keeping", e =>
            {
                e.MoveExpiredToSkipped = true;
                e.Handler<AuctionEnded>(_ => Record(consumed, "keeping"));
            });
            cfg.ReceiveEndpoint("dropping", e => e.Handler<AuctionEnded>(_ => Record(consumed, "dropping")));
        });

        await bus.StartAsync();
        try
        {
            Assert.True(await Eventually.True(async () => await db.StreamLengthAsync(redis.Key("queue:keeping_skipped")) == 1, Timeout),
                "the endpoint that says so moves its expired message to keeping_skipped");
            var entry = (await db.StreamRangeAsync(redis.Key("queue:keeping_skipped"), "-", "+")).Single();
            Assert.Equal("expired", (string?)entry[MessageHeaders.Reason]);

            Assert.True(await Eventually.True(async () => (await db.StreamPendingAsync(redis.Key("queue:dropping"), "dropping")).PendingMessageCount == 0
                && (await db.StreamGroupInfoAsync(redis.Key("queue:dropping"))).Single().Lag == 0, Timeout), "the other endpoint drops its own");
            Assert.Equal(0, await db.StreamLengthAsync(redis.Key("queue:dropping_skipped")));
            Assert.Empty(consumed);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    static Task Record(ConcurrentQueue<string> consumed, string endpoint)
    {
        consumed.Enqueue(endpoint);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Sends a message to <paramref name="queue" /> and leaves it pending for a consumer that never acknowledges it, as a
    /// crashed instance would, with the given delivery count and idle time.
    /// </summary>
    static async Task SendUnacknowledged(RedisTestContext redis, IDatabase db, string queue, int deliveries, TimeSpan idle)
    {
        var sender = Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix));
        await sender.StartAsync();
        try
        {
            var endpoint = await sender.GetSendEndpoint(new Uri($"queue:{queue}"));
            await endpoint.Send(new AuctionEnded(Guid.NewGuid(), queue, 1m));
        }
        finally
        {
            await sender.StopAsync();
        }

        var key = redis.Key($"queue:{queue}");
        await db.StreamCreateConsumerGroupAsync(key, queue, "0");
        var read = await db.StreamReadGroupAsync(key, queue, Ghost, ">", 1);
        await db.ExecuteAsync("XCLAIM", key, queue, Ghost, 0, read.Single().Id, "IDLE", (long)idle.TotalMilliseconds,
            "RETRYCOUNT", deliveries, "JUSTID");
    }
}
