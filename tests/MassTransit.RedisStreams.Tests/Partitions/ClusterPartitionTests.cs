namespace MassTransit.RedisStreams.Tests.Partitions;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Contract;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Redis;
using RedisStreams.Redis;
using Topologies;
using Xunit;


/// <summary>
/// Partitions on a Redis Cluster of three primaries: the partitions of a type land on different primaries, and under load
/// from several publishers each key's events arrive in order and none is lost.
/// </summary>
[Trait("Category", "Cluster")]
public class ClusterPartitionTests :
    IClassFixture<ClusterFixture>
{
    readonly ClusterFixture _fixture;

    public ClusterPartitionTests(ClusterFixture fixture)
    {
        _fixture = fixture;
    }

    RedisClusterProcess Cluster => _fixture.Cluster;

    [RedisClusterFact]
    public async Task Three_partitions_land_on_the_three_primaries()
    {
        var redis = ClusterSupport.Context(Cluster, TestRedis.NewKeyPrefix());
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) => cfg.Partition<MeterRead>(3));
        var bus = provider.GetRequiredService<ITestHarness>().Bus;

        var streams = PartitionKeys.Streams(new StreamKeys(redis.KeyPrefix), "MeterRead", 3);
        var primaries = new List<int>();
        foreach (var stream in streams)
        {
            var slot = await Cluster.KeySlot(stream);
            Assert.Equal(PartitionKeys.Slot(stream.ToString()), slot);
            primaries.Add((await Cluster.PrimaryOf(slot)).Port);
        }

        Assert.Equal(3, primaries.Distinct().Count());

        var meters = PartitionSupport.Keys(30);
        for (var i = 0; i < 30; i++)
            await bus.Publish(new MeterRead(meters[i], i));

        // The stream info tells where each partition lives.
        var info = await provider.GetRequiredService<IRedisStreamsEventHistory>().GetStreamInfo<MeterRead>();
        Assert.Equal(30, info.Length);
        Assert.Equal(3, info.Partitions.Count);
        Assert.Equal(primaries.Select(port => port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            info.Partitions.Select(x => x.Node!.Split(':')[^1]));
    }

    [RedisClusterFact]
    public async Task Under_load_from_concurrent_publishers_each_key_arrives_in_order_and_nothing_is_lost()
    {
        var redis = ClusterSupport.Context(Cluster, TestRedis.NewKeyPrefix());
        var seen = new Recorder<Seen>();
        await using var consumer = await redis.StartHarness(_ => { }, (_, cfg) =>
        {
            cfg.ReceiveEndpoint("meters", e =>
            {
                e.ConcurrentMessageLimit = 1;
                PartitionSupport.Record<MeterRead>(e, "meters", seen);
            });
            // Handlers side by side: the transport still runs the events of one key one after the other.
            cfg.ReceiveEndpoint("any-meter", e =>
            {
                e.ConcurrentMessageLimit = 8;
                e.Handler<IMeterEvent>(async context =>
                {
                    seen.Add(new Seen("any-meter", context.Message.CorrelationId, context.Message.Sequence, ""));
                    await Task.Yield();
                });
            });
        });

        const int publishers = 3;
        const int keysPerPublisher = 8;
        const int perKey = 40;
        var buses = new List<ServiceProvider>();
        try
        {
            for (var i = 0; i < publishers; i++)
                buses.Add(await redis.StartHarness(_ => { }, (_, cfg) => cfg.Partition<MeterRead>(3)));

            var keys = new List<Guid>();
            var publishing = new List<Task>();
            foreach (var provider in buses)
            {
                var bus = provider.GetRequiredService<ITestHarness>().Bus;
                for (var k = 0; k < keysPerPublisher; k++)
                {
                    var meter = Guid.NewGuid();
                    keys.Add(meter);
                    publishing.Add(Task.Run(async () =>
                    {
                        for (var sequence = 1; sequence <= perKey; sequence++)
                            await bus.Publish(new MeterRead(meter, sequence));
                    }));
                }
            }

            await Task.WhenAll(publishing);

            var total = keys.Count * perKey;
            var all = await Eventually.True(() => seen.Items.Count >= 2 * total, TimeSpan.FromSeconds(60))
                ? seen.Items
                : throw new TimeoutException($"{seen.Items.Count} of {2 * total} deliveries");

            foreach (var endpoint in new[] { "meters", "any-meter" })
            {
                var byKey = all.ByKey(endpoint);
                foreach (var meter in keys)
                    Assert.True(Enumerable.Range(1, perKey).SequenceEqual(byKey[meter]), $"{endpoint}: {meter} in order: {string.Join(",", byKey[meter])}");
            }

            Assert.Equal(2 * total, seen.Items.Count);

            // Every partition was written to.
            var db = await redis.Database();
            foreach (var stream in PartitionKeys.Streams(new StreamKeys(redis.KeyPrefix), "MeterRead", 3))
                Assert.True(await db.StreamLengthAsync(stream) > 0, $"{stream} has entries");
        }
        finally
        {
            foreach (var provider in buses)
                await provider.DisposeAsync();
        }
    }
}
