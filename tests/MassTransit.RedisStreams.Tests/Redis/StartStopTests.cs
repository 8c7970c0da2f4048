namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Threading;
using System.Threading.Tasks;
using Infrastructure;
using Xunit;


/// <summary>
/// Consumer groups are created on start; stop lets in-flight messages finish and acknowledges them; what a stopped endpoint
/// has not read waits for its next start.
/// </summary>
public class StartStopTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Stop_waits_for_the_message_in_flight_and_acknowledges_it()
    {
        var redis = await RedisTestContext.Create();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = 0;

        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("slow", e => e.Handler<AuctionEnded>(async _ =>
            {
                started.TrySetResult();
                await release.Task;
                Interlocked.Increment(ref finished);
            }));
        });

        await bus.StartAsync();
        await bus.Publish(new AuctionEnded(Guid.NewGuid(), "Desk", 5m));
        await started.Task.WaitAsync(Timeout);

        var stopping = bus.StopAsync();
        Assert.False(stopping.IsCompleted, "stop waits while a message is in flight");

        release.SetResult();
        await stopping.WaitAsync(Timeout);

        Assert.Equal(1, Volatile.Read(ref finished));

        var db = await redis.Database();
        var pending = await db.StreamPendingAsync(redis.Key("events:AuctionEnded"), "slow");
        Assert.Equal(0, pending.PendingMessageCount);
    }

    [Fact]
    public async Task Messages_sent_while_the_endpoint_is_stopped_are_consumed_at_its_next_start()
    {
        var redis = await RedisTestContext.Create();
        var log = new DeliveryLog();

        IBusControl CreateBus() => Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("orders", e => e.Handler<AuctionEnded>(context =>
            {
                log.Record(context.Message.AuctionId.ToString());
                return Task.CompletedTask;
            }));
        });

        var receiver = CreateBus();
        await receiver.StartAsync();
        await receiver.StopAsync();

        var sender = Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix));
        await sender.StartAsync();
        var endpoint = await sender.GetSendEndpoint(new Uri("queue:orders"));
        for (var i = 0; i < 10; i++)
            await endpoint.Send(new AuctionEnded(Guid.NewGuid(), "Lot " + i, i));
        await sender.StopAsync();

        Assert.Equal(0, log.Total);

        await receiver.StartAsync();
        try
        {
            Assert.True(await log.WaitForDistinct(10, Timeout));
            Assert.Equal(0, log.Duplicates);
        }
        finally
        {
            await receiver.StopAsync();
        }
    }

    [Fact]
    public async Task A_new_event_endpoint_starts_at_new_messages_unless_told_to_start_at_the_beginning()
    {
        var redis = await RedisTestContext.Create();

        var publisher = Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix));
        await publisher.StartAsync();
        await publisher.Publish(new AuctionEnded(Guid.NewGuid(), "Before", 1m));

        var fromNew = new DeliveryLog();
        var fromBeginning = new DeliveryLog();

        var consumer = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("new-only", e => e.Handler<AuctionEnded>(c =>
            {
                fromNew.Record(c.Message.Item);
                return Task.CompletedTask;
            }));
            cfg.ReceiveEndpoint("replay-all", e =>
            {
                e.StartPosition = RedisStreamsStartPosition.Beginning;
                e.Handler<AuctionEnded>(c =>
                {
                    fromBeginning.Record(c.Message.Item);
                    return Task.CompletedTask;
                });
            });
        });

        await consumer.StartAsync();
        try
        {
            await publisher.Publish(new AuctionEnded(Guid.NewGuid(), "After", 2m));

            Assert.True(await fromBeginning.WaitForDistinct(2, Timeout));
            Assert.True(await fromNew.WaitForDistinct(1, Timeout));
            Assert.Equal(1, fromBeginning.CountOf("Before"));
            Assert.Equal(1, fromNew.CountOf("After"));
            Assert.Equal(0, fromNew.CountOf("Before"));
        }
        finally
        {
            await consumer.StopAsync();
            await publisher.StopAsync();
        }
    }
}
