namespace MassTransit.RedisStreams.Tests.Faults;

using System;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using Redis;
using StackExchange.Redis;
using TestHost;
using Xunit;


/// <summary>
/// Pending entries whose stream entry is gone are acknowledged and counted, never stuck; dead consumers are removed, but
/// only when they have nothing pending.
/// </summary>
public class PendingListTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Pending_entries_deleted_from_the_stream_do_not_stay_pending_and_the_dead_consumer_is_removed()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var queue = redis.Key("queue:work");
        var proof = new Proof(db, redis.KeyPrefix);

        await db.StreamCreateConsumerGroupAsync(queue, "work", "0", true);
        await using (var sender = await WorkSender.Start(redis.ConnectionString, redis.KeyPrefix))
            await sender.Send(0, 5, parallel: 1);

        // A consumer that reads five entries and dies; then three of them are deleted from the stream.
        var taken = await db.StreamReadGroupAsync(queue, "work", "ghost", ">", 5);
        Assert.Equal(5, taken.Length);
        await db.StreamDeleteAsync(queue, taken.Take(3).Select(x => x.Id).ToArray());

        using var consumer = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix,
            ("claim-timeout-ms", 1000), ("dead-consumer-ms", 1000));

        Assert.True(await Eventually.True(async () => await proof.HandledCount() == 2, Timeout), "the two entries still in the stream are handled");
        Assert.True(await Eventually.True(async () => (await db.StreamPendingAsync(queue, "work")).PendingMessageCount == 0, Timeout),
            "the deleted entries do not stay pending");
        Assert.True(await Eventually.True(async () => (await db.StreamConsumerInfoAsync(queue, "work")).All(x => x.Name != "ghost"), Timeout),
            "the dead consumer is removed once nothing is pending for it");
    }

    [Fact]
    public async Task A_consumer_with_pending_entries_is_never_removed()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var stream = redis.Key("queue:keep");

        await db.StreamCreateConsumerGroupAsync(stream, "keep", "0", true);
        await db.StreamAddAsync(stream, "body", "{}");
        await db.StreamAddAsync(stream, "body", "{}");
        await db.StreamReadGroupAsync(stream, "keep", "busy", ">", 1);
        await db.StreamReadGroupAsync(stream, "keep", "idle", ">", 1);
        await db.StreamAcknowledgeAsync(stream, "keep", (await db.StreamPendingMessagesAsync(stream, "keep", 1, "idle")).Single().MessageId);

        var client = new RedisStreams.Redis.RedisGateway(new RedisStreams.Redis.RedisConnection(db.Multiplexer),
            new RedisStreams.Redis.StreamKeys(redis.KeyPrefix));
        var removed = await client.Pending.RemoveIdleConsumers(stream, "keep", TimeSpan.Zero, null, "nobody");

        Assert.Equal(["idle"], removed);
        Assert.Equal(["busy"], (await db.StreamConsumerInfoAsync(stream, "keep")).Select(x => x.Name.ToString()).ToArray());
    }
}
