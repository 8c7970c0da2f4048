namespace MassTransit.RedisStreams.Tests.Scheduling;

using System;
using System.Linq;
using System.Threading.Tasks;
using Contract;
using Faults;
using History;
using Infrastructure;
using Redis;
using StackExchange.Redis;
using TestHost;
using Xunit;


/// <summary>
/// Delayed messages are held in Redis, not in process memory, and appended to their stream when due by whichever instance
/// gets there first — once, however many compete — and also when every instance was down when they fell due, or Redis
/// restarted meanwhile.
/// </summary>
public class DelayedDeliveryTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(700);

    [Fact]
    public async Task A_delayed_send_is_held_in_Redis_and_appended_to_the_queue_when_due()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var received = new Recorder<(int Lot, DateTime At)>();
        var bus = CreateBus(redis, received);

        await bus.StartAsync();
        try
        {
            var sent = DateTime.UtcNow;
            await (await bus.GetSendEndpoint(new Uri("queue:ledger"))).Send(new LotSold(1, "b", 1m), x => x.Delay = Delay);

            // Held beside the queue until due, not in it.
            Assert.Equal(1, await db.SortedSetLengthAsync(redis.Beside("queue:ledger", "delayed")));
            Assert.Equal(0, await db.StreamLengthAsync(redis.Key("queue:ledger")));

            var (lot, at) = Assert.Single(await received.WaitForCount(1));
            Assert.Equal(1, lot);
            Assert.InRange(at - sent, Delay - TimeSpan.FromMilliseconds(20), Delay + TimeSpan.FromSeconds(5));
            Assert.Equal(0, await db.SortedSetLengthAsync(redis.Beside("queue:ledger", "delayed")));
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [Fact]
    public async Task A_delayed_publish_is_appended_to_the_event_stream_when_due()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var received = new Recorder<(int Lot, DateTime At)>();
        var bus = CreateBus(redis, received);

        await bus.StartAsync();
        try
        {
            var sent = DateTime.UtcNow;
            await bus.Publish(new LotSold(2, "b", 1m), x => x.Delay = Delay);

            Assert.Equal(0, await db.StreamLengthAsync(redis.Key("events:LotSold")));

            var (lot, at) = Assert.Single(await received.WaitForCount(1));
            Assert.Equal(2, lot);
            Assert.InRange(at - sent, Delay - TimeSpan.FromMilliseconds(20), Delay + TimeSpan.FromSeconds(5));
            Assert.Equal(1, await db.StreamLengthAsync(redis.Key("events:LotSold")));
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [Fact]
    public async Task A_large_delayed_message_arrives_intact()
    {
        var redis = await RedisTestContext.Create();
        var received = new Recorder<string>();
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("ledger", e => e.Handler<LotSold>(ctx =>
            {
                received.Add(ctx.Message.Buyer);
                return Task.CompletedTask;
            }));
        });

        await bus.StartAsync();
        try
        {
            // Past the 64 KB where the packed form needs its longest string header, with characters of every width.
            var buyer = string.Concat(Enumerable.Range(0, 80_000).Select(i => (char)('a' + i % 26) + (i % 1000 == 0 ? "é€😀" : "")));
            await (await bus.GetSendEndpoint(new Uri("queue:ledger"))).Send(new LotSold(1, buyer, 1m), x => x.Delay = TimeSpan.FromMilliseconds(200));

            Assert.Equal(buyer, Assert.Single(await received.WaitForCount(1)));
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [Fact]
    public async Task Messages_that_fell_due_while_every_instance_was_down_are_delivered_at_the_next_start()
    {
        var redis = await RedisTestContext.Create();
        var received = new Recorder<(int Lot, DateTime At)>();
        var bus = CreateBus(redis, received);

        await bus.StartAsync();
        var endpoint = await bus.GetSendEndpoint(new Uri("queue:ledger"));
        for (var i = 1; i <= 3; i++)
            await endpoint.Send(new LotSold(i, "b", 1m), x => x.Delay = TimeSpan.FromMilliseconds(200));
        await bus.StopAsync();

        // Nothing runs while they fall due.
        await Task.Delay(400);
        Assert.Empty(received.Items);

        await bus.StartAsync();
        try
        {
            Assert.Equal([1, 2, 3], (await received.WaitForCount(3)).Select(x => x.Lot).Order());
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [Fact]
    public async Task Competing_instances_in_separate_processes_append_each_due_message_exactly_once()
    {
        const int count = 300;
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var proof = new Proof(db, redis.KeyPrefix);

        var hosts = new[]
        {
            await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix),
            await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix),
            await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix)
        };
        try
        {
            // Every message falls due at about the same moment, when all three pumps want to move it.
            await using (var sender = await WorkSender.Start(redis.ConnectionString, redis.KeyPrefix))
            {
                var endpoint = await sender.GetEndpoint();
                var due = DateTime.UtcNow.AddSeconds(2);
                await Task.WhenAll(Enumerable.Range(0, count).Select(i => endpoint.Send(new Work(i), x => x.Delay = due - DateTime.UtcNow)));
            }

            Assert.True(await proof.AllHandled(count, Timeout), (await proof.Count(count)).ToString());
            var counts = await proof.Count(count);
            Assert.Equal(0, counts.Duplicated);
            Assert.Equal(count, await db.StreamLengthAsync(redis.Key("queue:work")));
        }
        finally
        {
            foreach (var host in hosts)
                host.Dispose();
        }
    }

    [RedisServerFact]
    public async Task Delayed_messages_waiting_in_Redis_survive_a_Redis_restart()
    {
        using var server = RedisServerProcess.Start(appendOnly: true, appendFsync: "always");
        var redis = await RedisTestContext.Create(server.ConnectionString);
        var received = new Recorder<(int Lot, DateTime At)>();
        var bus = CreateBus(redis, received);

        await bus.StartAsync();
        try
        {
            var endpoint = await bus.GetSendEndpoint(new Uri("queue:ledger"));
            for (var i = 1; i <= 50; i++)
                await endpoint.Send(new LotSold(i, "b", 1m), x => x.Delay = TimeSpan.FromSeconds(2));

            server.Restart();

            Assert.Equal(Enumerable.Range(1, 50), (await received.WaitForCount(50)).Select(x => x.Lot).Order());
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    static IBusControl CreateBus(RedisTestContext redis, Recorder<(int Lot, DateTime At)> received)
    {
        return Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("ledger", e => e.Handler<LotSold>(ctx =>
            {
                received.Add((ctx.Message.Lot, DateTime.UtcNow));
                return Task.CompletedTask;
            }));
        });
    }
}
