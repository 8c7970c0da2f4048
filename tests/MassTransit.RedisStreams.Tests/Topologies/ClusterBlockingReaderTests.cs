namespace MassTransit.RedisStreams.Tests.Topologies;

using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using History;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Redis;
using RedisStreams.Redis;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;


/// <summary>What the blocking reader tests on a cluster share: endpoints that read their queue alone, and where their readers wait.</summary>
static class ClusterReaders
{
    /// <summary>Whether a blocking reader waits in a blocked read on <paramref name="node" />.</summary>
    public static async Task<bool> BlockedOn(RedisServerProcess node)
    {
        if (!node.IsRunning)
            return false;

        await using var admin = await ConnectionMultiplexer.ConnectAsync(node.ConnectionString + ",allowAdmin=true");
        return (await BlockingReaderTests.Readers(admin.GetServer(node.ConnectionString))).Any(x => x.Blocked);
    }

    /// <summary>An endpoint that reads its queue stream alone, one hash slot, recording each lot and when it first arrived.</summary>
    public static void QueueOnly(IRedisStreamsBusFactoryConfigurator cfg, string queue, ConcurrentDictionary<int, int> received,
        ConcurrentDictionary<int, long> arrivedAt)
    {
        cfg.ReceiveEndpoint(queue, e =>
        {
            e.ConfigureConsumeTopology = false;
            e.Handler<LotSold>(ctx =>
            {
                received.AddOrUpdate(ctx.Message.Lot, 1, (_, count) => count + 1);
                arrivedAt.TryAdd(ctx.Message.Lot, Stopwatch.GetTimestamp());
                return Task.CompletedTask;
            });
        });
    }

    /// <summary>Sends lot <paramref name="lot" /> to an idle endpoint and returns how long it took to arrive, in ms.</summary>
    public static async Task<double> IdleDelivery(ISendEndpoint endpoint, int lot, ConcurrentDictionary<int, long> arrivedAt, TimeSpan timeout)
    {
        var sentAt = Stopwatch.GetTimestamp();
        await endpoint.Send(new LotSold(lot, "idle", 1));
        Assert.True(await Eventually.True(() => arrivedAt.ContainsKey(lot), timeout), $"lot {lot} arrives");
        return Stopwatch.GetElapsedTime(sentAt, arrivedAt[lot]).TotalMilliseconds;
    }
}


/// <summary>
/// On a Redis Cluster an endpoint whose streams share a hash slot waits in a blocked read on the primary of that slot; one whose
/// streams span slots waits for wake-ups. The blocked read follows its slot to another primary, and finds the new one after a
/// failover.
/// </summary>
[Trait("Category", "Cluster")]
public class ClusterBlockingReaderTests :
    IClassFixture<ClusterFixture>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    readonly ClusterFixture _fixture;
    readonly ITestOutputHelper _output;

    public ClusterBlockingReaderTests(ClusterFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    [RedisClusterFact]
    public async Task Endpoints_that_read_one_slot_block_on_its_primary_and_follow_it_when_the_slot_moves()
    {
        var cluster = _fixture.Cluster;
        var prefix = await ClusterSupport.SpreadPrefix(cluster, 2, "queue:north", "queue:south");
        var redis = ClusterSupport.Context(cluster, prefix);
        var north = redis.Key("queue:north");
        var slot = RedisClusterProcess.SlotOf(north);
        var idlePoll = TimeSpan.FromSeconds(20);

        var received = new ConcurrentDictionary<int, int>();
        var arrivedAt = new ConcurrentDictionary<int, long>();
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) =>
        {
            ClusterReaders.QueueOnly(cfg, "north", received, arrivedAt);
            ClusterReaders.QueueOnly(cfg, "south", received, arrivedAt);
        }, h => h.IdlePollInterval = idlePoll);
        var bus = provider.GetRequiredService<ITestHarness>().Bus;

        // Each waits on the primary of its own queue's slot.
        var northPrimary = await cluster.PrimaryOf(slot);
        var southPrimary = await cluster.PrimaryOf(RedisClusterProcess.SlotOf(redis.Key("queue:south")));
        Assert.NotEqual(northPrimary, southPrimary);
        Assert.True(await Eventually.True(() => ClusterReaders.BlockedOn(northPrimary), Timeout), "north blocks on its primary");
        Assert.True(await Eventually.True(() => ClusterReaders.BlockedOn(southPrimary), Timeout), "south blocks on its primary");

        var northSender = await bus.GetSendEndpoint(new Uri("queue:north"));
        var southSender = await bus.GetSendEndpoint(new Uri("queue:south"));
        var before = new[] { await ClusterReaders.IdleDelivery(northSender, 1, arrivedAt, Timeout), await ClusterReaders.IdleDelivery(southSender, 2, arrivedAt, Timeout) };

        // The north queue's slot moves to another primary while messages flow.
        var accepted = new ConcurrentBag<int>();
        var next = 1000;
        using var stop = new CancellationTokenSource();
        var producer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var lot = Interlocked.Increment(ref next);
                await northSender.Send(new LotSold(lot, "flow", 1));
                accepted.Add(lot);
            }
        });

        Assert.True(await Eventually.True(() => received.Count >= 200, Timeout), "messages flow before the move");
        var target = cluster.Nodes.First(x => x != northPrimary && x.IsRunning && x != southPrimary);
        var moved = await cluster.MigrateSlot(slot, target);
        _output.WriteLine($"slot {slot} with {moved} keys moved from :{northPrimary.Port} to :{target.Port}");

        var sentByMove = Volatile.Read(ref next);
        Assert.True(await Eventually.True(() => received.Keys.Count(x => x > sentByMove) >= 200, Timeout), "messages flow after the move");
        await stop.CancelAsync();
        await producer;

        Assert.True(await Eventually.True(() => accepted.All(received.ContainsKey), Timeout),
            $"every accepted send arrives ({accepted.Count(received.ContainsKey)} of {accepted.Count})");
        Assert.Empty(received.Where(x => x.Value > 1).Select(x => x.Key));

        // Idle again, the north endpoint waits on the slot's new primary, and a message reaches it at once.
        Assert.True(await Eventually.True(() => ClusterReaders.BlockedOn(target), Timeout), "north blocks on the slot's new primary");
        var after = await ClusterReaders.IdleDelivery(northSender, 3, arrivedAt, Timeout);

        _output.WriteLine($"{accepted.Count} sent across the move; idle deliveries before, ms: {string.Join(", ", before.Select(x => x.ToString("0.0")))}; "
            + $"after: {after:0.0}");
        Assert.All(before.Append(after), x => Assert.True(x < idlePoll.TotalMilliseconds / 10, $"{x:0} ms: by the blocked read, not the poll"));

        await cluster.MigrateSlot(slot, northPrimary);
    }

    [RedisClusterFact]
    public async Task An_endpoint_whose_streams_span_slots_waits_for_wake_ups_beside_one_that_blocks()
    {
        var cluster = _fixture.Cluster;
        var prefix = await ClusterSupport.SpreadPrefix(cluster, 2, "queue:spread", "events:MassTransit.RedisStreams.Tests.History:LotSold");
        var redis = ClusterSupport.Context(cluster, prefix);
        var idlePoll = TimeSpan.FromSeconds(20);

        var received = new ConcurrentDictionary<int, int>();
        var arrivedAt = new ConcurrentDictionary<int, long>();
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) =>
        {
            ClusterReaders.QueueOnly(cfg, "single", received, arrivedAt);
            cfg.ReceiveEndpoint("spread", e => e.Handler<LotSold>(ctx =>
            {
                arrivedAt.TryAdd(-ctx.Message.Lot, Stopwatch.GetTimestamp());
                return Task.CompletedTask;
            }));
        }, h => h.IdlePollInterval = idlePoll);
        var bus = provider.GetRequiredService<ITestHarness>().Bus;

        // The endpoint over two slots arms its wake flags and waits for a wake-up; the other blocks.
        var db = await redis.Database();
        var spreadWake = new StreamKeys(redis.KeyPrefix).Wake(redis.Key("queue:spread"));
        Assert.True(await Eventually.True(async () => await db.KeyExistsAsync(spreadWake), Timeout), "the endpoint over two slots armed its wake flag");
        var singlePrimary = await cluster.PrimaryOf(RedisClusterProcess.SlotOf(redis.Key("queue:single")));
        Assert.True(await Eventually.True(() => ClusterReaders.BlockedOn(singlePrimary), Timeout), "the endpoint of one slot blocks");

        var single = await ClusterReaders.IdleDelivery(await bus.GetSendEndpoint(new Uri("queue:single")), 1, arrivedAt, Timeout);
        var watch = Stopwatch.StartNew();
        await bus.Publish(new LotSold(5, "published", 1));
        Assert.True(await Eventually.True(() => arrivedAt.ContainsKey(-5), Timeout), "the published lot arrives");
        var spread = watch.Elapsed.TotalMilliseconds;

        _output.WriteLine($"idle delivery: blocked read {single:0.0} ms, wake-up {spread:0.0} ms");
        Assert.True(single < idlePoll.TotalMilliseconds / 10 && spread < idlePoll.TotalMilliseconds / 10, "neither waited for the poll");
    }
}


/// <summary>The primary that serves a blocking endpoint's slot is killed: its replica takes over, and the endpoint blocks there.</summary>
[Trait("Category", "Cluster")]
public class ClusterBlockingReaderFailoverTests :
    IClassFixture<ReplicatedClusterFixture>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    readonly ReplicatedClusterFixture _fixture;
    readonly ITestOutputHelper _output;

    public ClusterBlockingReaderFailoverTests(ReplicatedClusterFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    [RedisClusterFact]
    public async Task A_blocking_endpoint_goes_on_when_the_primary_of_its_slot_dies_and_blocks_on_the_promoted_replica()
    {
        var cluster = _fixture.Cluster;
        await cluster.WaitUntilHealthy(Timeout);
        RedisTestContext redis;
        RedisServerProcess primary;
        while (true)
        {
            var prefix = TestRedis.NewKeyPrefix();
            primary = await cluster.PrimaryOf(ClusterSupport.Slot(prefix, "queue:failover"));
            if ((await cluster.ReplicasOf(primary)).Any(x => x.IsRunning))
            {
                redis = ClusterSupport.Context(cluster, prefix);
                break;
            }
        }

        var slot = RedisClusterProcess.SlotOf(redis.Key("queue:failover"));
        var idlePoll = TimeSpan.FromSeconds(2);
        var received = new ConcurrentDictionary<int, int>();
        var arrivedAt = new ConcurrentDictionary<int, long>();
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) => ClusterReaders.QueueOnly(cfg, "failover", received, arrivedAt),
            h => h.IdlePollInterval = idlePoll);
        var endpoint = await provider.GetRequiredService<ITestHarness>().Bus.GetSendEndpoint(new Uri("queue:failover"));

        Assert.True(await Eventually.True(() => ClusterReaders.BlockedOn(primary), Timeout), "the endpoint blocks on the primary");
        for (var i = 0; i < 20; i++)
            await endpoint.Send(new LotSold(i, "before", 1));
        Assert.True(await Eventually.True(() => Enumerable.Range(0, 20).All(received.ContainsKey), Timeout));

        var failover = Stopwatch.StartNew();
        primary.Kill();

        var during = Enumerable.Range(100, 20).Select(i => endpoint.Send(new LotSold(i, "during", 1))).ToArray();
        await Task.WhenAll(during).WaitAsync(Timeout);
        for (var i = 200; i < 220; i++)
            await endpoint.Send(new LotSold(i, "after", 1));

        Assert.True(await Eventually.True(() => Enumerable.Range(100, 20).Concat(Enumerable.Range(200, 20)).All(received.ContainsKey), Timeout),
            "every message sent during and after the failover arrives");
        _output.WriteLine($"all received {failover.Elapsed.TotalSeconds:0.0} s after the kill");

        var promoted = await cluster.PrimaryOf(slot);
        Assert.NotEqual(primary, promoted);
        Assert.True(await Eventually.True(() => ClusterReaders.BlockedOn(promoted), Timeout), "the endpoint blocks on the promoted replica");
        _output.WriteLine($"blocked on the promoted replica {failover.Elapsed.TotalSeconds:0.0} s after the kill");

        var latency = await ClusterReaders.IdleDelivery(endpoint, 5000, arrivedAt, Timeout);
        _output.WriteLine($"idle delivery after the failover: {latency:0.0} ms; duplicates: {received.Values.Sum(x => x - 1)}");
        Assert.True(latency < 100, $"{latency:0} ms");

        await cluster.WaitUntilHealthy(Timeout);
    }
}
