namespace MassTransit.RedisStreams.Tests.Partitions;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Contract;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Redis;
using RedisStreams.Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// A hot event type spread over partition streams (#18): the key picks the partition, every endpoint reads every partition
/// through its group, and the events of one key keep their order.
/// </summary>
public class PartitionTests
{
    [Fact]
    public void The_hash_and_the_names_are_the_documented_ones()
    {
        // 32-bit FNV-1a test vectors.
        Assert.Equal(0x811c9dc5u, PartitionKeys.Fnv1a(""));
        Assert.Equal(0xe40c292cu, PartitionKeys.Fnv1a("a"));
        Assert.Equal(0xbf9cf968u, PartitionKeys.Fnv1a("foobar"));

        // CRC16 as CLUSTER KEYSLOT gives it (the values of the Redis Cluster specification).
        Assert.Equal(12739, PartitionKeys.Slot("123456789"));
        Assert.Equal(RedisClusterSlot("events:MeterRead"), PartitionKeys.Slot("events:MeterRead"));
        Assert.Equal(PartitionKeys.Slot("user"), PartitionKeys.Slot("x{user}y"));

        var keys = new StreamKeys("tenant");
        for (var count = 1; count <= 12; count++)
        {
            var streams = PartitionKeys.Streams(keys, "MeterRead", count);
            Assert.Equal(count, streams.Length);
            for (var i = 0; i < count; i++)
            {
                var name = streams[i].ToString();
                Assert.StartsWith($"tenant:events:MeterRead:p{i}of{count}", name);
                Assert.DoesNotContain("{", name);
                Assert.InRange(PartitionKeys.Slot(name), i * 16384 / count, (i + 1) * 16384 / count - 1);

                Assert.True(PartitionKeys.TryParse(keys.EntityNameOf(streams[i])!, out var entity, out var index, out var total));
                Assert.Equal(("MeterRead", i, count), (entity, index, total));
            }
        }

        Assert.False(PartitionKeys.TryParse("MeterRead", out _, out _, out _));
        Assert.False(PartitionKeys.TryParse("Meter:pxof3", out _, out _, out _));
        Assert.False(PartitionKeys.TryParse("Meter:p3of3", out _, out _, out _));
    }

    static int RedisClusterSlot(string key) => Infrastructure.RedisClusterProcess.SlotOf(key);

    [Fact]
    public async Task Each_key_always_goes_to_the_partition_its_hash_picks()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) => cfg.Partition<MeterRead>(3));
        var bus = provider.GetRequiredService<ITestHarness>().Bus;

        var meters = PartitionSupport.Keys(12);
        for (var sequence = 1; sequence <= 5; sequence++)
        {
            foreach (var meter in meters)
                await bus.Publish(new MeterRead(meter, sequence));
        }

        var db = await redis.Database();
        var streams = PartitionKeys.Streams(new StreamKeys(redis.KeyPrefix), "MeterRead", 3);
        Assert.False(await db.KeyExistsAsync(redis.Key("events:MeterRead")), "the unpartitioned stream is not written");

        var total = 0;
        for (var i = 0; i < streams.Length; i++)
        {
            var entries = await db.StreamRangeAsync(streams[i]);
            total += entries.Length;
            foreach (var meter in meters)
            {
                var expected = meter.ToString("D");
                var here = entries.Count(x => ((string?)x["body"] ?? "").Contains(expected, StringComparison.OrdinalIgnoreCase));
                Assert.Equal(PartitionKeys.Partition(expected, 3) == i ? 5 : 0, here);
            }
        }

        Assert.Equal(60, total);

        // Each partition is recorded as a source of the type itself and of the interface it implements.
        foreach (var type in new[] { "MeterRead", "IMeterEvent" })
        {
            var sources = (await db.SetMembersAsync(redis.Beside("events:" + type, "sources"))).Select(x => (string)x!).ToHashSet();
            Assert.Subset(sources, streams.Select(x => x.ToString()).ToHashSet());
        }
    }

    [Fact]
    public async Task Every_endpoint_reads_every_partition_including_a_consumer_of_an_interface_the_type_implements()
    {
        var redis = await RedisTestContext.Create();
        var seen = new Recorder<Seen>();
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) =>
        {
            cfg.Partition<MeterRead>(3);
            cfg.ReceiveEndpoint("billing", e => PartitionSupport.Record<MeterRead>(e, "billing", seen));
            cfg.ReceiveEndpoint("alerts", e => PartitionSupport.Record<MeterRead>(e, "alerts", seen));
            cfg.ReceiveEndpoint("audit", e => PartitionSupport.Record<IMeterEvent>(e, "audit", seen));
        });
        var bus = provider.GetRequiredService<ITestHarness>().Bus;

        var meters = PartitionSupport.Keys(30);
        for (var sequence = 1; sequence <= 3; sequence++)
            await Task.WhenAll(meters.Select(meter => bus.Publish(new MeterRead(meter, sequence))));

        var all = await seen.WaitFor(x => x.Count >= 270, "90 events at each of three endpoints");

        var streams = PartitionKeys.Streams(new StreamKeys(redis.KeyPrefix), "MeterRead", 3).Select(x => x.ToString()).ToList();
        foreach (var endpoint in new[] { "billing", "alerts", "audit" })
        {
            var here = all.Where(x => x.Endpoint == endpoint).ToList();
            Assert.Equal(90, here.Select(x => (x.Key, x.Sequence)).Distinct().Count());
            Assert.Equal(90, here.Count);
            Assert.Equal(streams.ToHashSet(), here.Select(x => x.Stream).ToHashSet());
        }

        Assert.Equal(270, seen.Items.Count);
    }

    [Fact]
    public async Task An_endpoint_that_starts_after_the_partitions_exist_creates_its_groups_on_them_and_reads_them()
    {
        var redis = await RedisTestContext.Create();
        await using var publisher = await redis.StartHarness(_ => { }, (_, cfg) => cfg.Partition<MeterRead>(3));
        var bus = publisher.GetRequiredService<ITestHarness>().Bus;
        await bus.Publish(new MeterRead(Guid.NewGuid(), 0));

        // The publisher's topology is declared: from now on only the new subscribers can find the partitions.
        var seen = new Recorder<Seen>();
        await using var subscriber = await redis.StartHarness(_ => { }, (_, cfg) =>
        {
            cfg.ReceiveEndpoint("late-meters", e => PartitionSupport.Record<MeterRead>(e, "late-meters", seen));
            cfg.ReceiveEndpoint("late-any", e => PartitionSupport.Record<IMeterEvent>(e, "late-any", seen));
        });

        var meters = PartitionSupport.Keys(12);
        foreach (var meter in meters)
            await bus.Publish(new MeterRead(meter, 1));

        var all = await seen.WaitFor(x => x.Count >= 24, "12 events at each endpoint");
        Assert.Equal(12, all.Count(x => x.Endpoint == "late-meters"));
        Assert.Equal(12, all.Count(x => x.Endpoint == "late-any"));
        Assert.DoesNotContain(all, x => x.Sequence == 0);
    }

    [Fact]
    public async Task The_events_of_a_key_arrive_in_order_one_at_a_time_from_concurrent_publishers()
    {
        var redis = await RedisTestContext.Create();
        var seen = new Recorder<Seen>();
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) =>
        {
            cfg.Partition<MeterRead>(3);
            cfg.ReceiveEndpoint("ordered", e =>
            {
                e.ConcurrentMessageLimit = 1;
                PartitionSupport.Record<MeterRead>(e, "ordered", seen);
            });
        });
        var bus = provider.GetRequiredService<ITestHarness>().Bus;

        const int perKey = 40;
        var meters = PartitionSupport.Keys(8);
        await Task.WhenAll(meters.Select(async meter =>
        {
            for (var sequence = 1; sequence <= perKey; sequence++)
                await bus.Publish(new MeterRead(meter, sequence));
        }));

        var all = await seen.WaitFor(x => x.Count >= meters.Count * perKey, "every event");
        var byKey = all.ByKey("ordered");
        foreach (var meter in meters)
            Assert.Equal(Enumerable.Range(1, perKey), byKey[meter]);

        // On one Redis the one clock orders the partitions too: the whole endpoint sees append order.
        Assert.Equal(meters.Count * perKey, all.Count);
    }

    [Fact]
    public async Task With_concurrent_handlers_UsePartitioner_keeps_the_order_of_each_key()
    {
        var redis = await RedisTestContext.Create();
        var seen = new Recorder<Seen>();
        var running = new Dictionary<Guid, int>();
        var overlaps = 0;
        var concurrent = 0;
        var maxConcurrent = 0;
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) =>
        {
            cfg.Partition<MeterRead>(3);
            cfg.ReceiveEndpoint("parallel", e =>
            {
                e.ConcurrentMessageLimit = 8;
                e.PrefetchCount = 32;
                e.Handler<MeterRead>(async context =>
                {
                    var now = Interlocked.Increment(ref concurrent);
                    InterlockedMax(ref maxConcurrent, now);
                    lock (running)
                    {
                        running.TryGetValue(context.Message.CorrelationId, out var count);
                        if (count > 0)
                            overlaps++;
                        running[context.Message.CorrelationId] = count + 1;
                    }

                    seen.Add(new Seen("parallel", context.Message.CorrelationId, context.Message.Sequence, ""));
                    await Task.Delay(2);

                    lock (running)
                        running[context.Message.CorrelationId]--;
                    Interlocked.Decrement(ref concurrent);
                }, h => h.UsePartitioner(8, x => x.Message.CorrelationId));
            });
        });
        var bus = provider.GetRequiredService<ITestHarness>().Bus;

        const int perKey = 25;
        var meters = PartitionSupport.Keys(8);
        await Task.WhenAll(meters.Select(async meter =>
        {
            for (var sequence = 1; sequence <= perKey; sequence++)
                await bus.Publish(new MeterRead(meter, sequence));
        }));

        var all = await seen.WaitFor(x => x.Count >= meters.Count * perKey, "every event");
        var byKey = all.ByKey("parallel");
        foreach (var meter in meters)
            Assert.Equal(Enumerable.Range(1, perKey), byKey[meter]);

        Assert.Equal(0, overlaps);
        Assert.True(Volatile.Read(ref maxConcurrent) > 1, "handlers of different keys ran side by side");
    }

    [Fact]
    public async Task With_handlers_side_by_side_the_events_of_a_key_of_ones_own_run_one_at_a_time_in_order()
    {
        var redis = await RedisTestContext.Create();
        var order = new Recorder<(string Key, int Sequence)>();
        var running = new Dictionary<string, int>();
        var overlaps = 0;
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) =>
        {
            // The key is the region, carried in a header: many meters, four regions.
            cfg.Partition<MeterRead>(3, x => x.Headers.Get<string>("Region"));
            cfg.ReceiveEndpoint("regions", e =>
            {
                e.ConcurrentMessageLimit = 8;
                e.Handler<MeterRead>(async context =>
                {
                    var region = context.Headers.Get<string>("Region")!;
                    lock (running)
                    {
                        running.TryGetValue(region, out var count);
                        if (count > 0)
                            overlaps++;
                        running[region] = count + 1;
                    }

                    order.Add((region, context.Message.Sequence));
                    await Task.Yield();

                    lock (running)
                        running[region]--;
                });
            });
        });
        var bus = provider.GetRequiredService<ITestHarness>().Bus;

        const int perRegion = 30;
        var regions = new[] { "north", "south", "east", "west" };
        await Task.WhenAll(regions.Select(async region =>
        {
            for (var sequence = 1; sequence <= perRegion; sequence++)
                await bus.Publish(new MeterRead(Guid.NewGuid(), sequence), x => x.Headers.Set("Region", region));
        }));

        var all = await order.WaitForCount(regions.Length * perRegion);
        foreach (var region in regions)
            Assert.Equal(Enumerable.Range(1, perRegion), all.Where(x => x.Key == region).Select(x => x.Sequence));
        Assert.Equal(0, overlaps);
    }

    static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    [Fact]
    public async Task The_attribute_partitions_a_type_and_a_key_of_ones_own_can_be_chosen()
    {
        var redis = await RedisTestContext.Create();
        var seen = new Recorder<Seen>();
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) =>
        {
            // By sequence, not by meter: 2 keys over 2 partitions.
            cfg.Partition<MeterRead>(2, x => (x.Message.Sequence % 2).ToString(System.Globalization.CultureInfo.InvariantCulture));
            cfg.ReceiveEndpoint("gauges", e => e.Handler<GaugeRead>(context =>
            {
                context.TryGetPayload<RedisStreamsMessageContext>(out var r);
                seen.Add(new Seen("gauges", context.Message.CorrelationId, context.Message.Sequence, r!.StreamKey));
                return Task.CompletedTask;
            }));
        });
        var bus = provider.GetRequiredService<ITestHarness>().Bus;

        var gauges = PartitionSupport.Keys(20);
        foreach (var gauge in gauges)
            await bus.Publish(new GaugeRead(gauge, 1));

        var keys = new StreamKeys(redis.KeyPrefix);
        var gaugeStreams = PartitionKeys.Streams(keys, "GaugeRead", 4);
        var all = await seen.WaitFor(x => x.Count >= gauges.Count, "every gauge reading");
        Assert.All(all, x => Assert.Equal(gaugeStreams[PartitionKeys.Partition(x.Key.ToString("D"), 4)].ToString(), x.Stream));

        var meter = Guid.NewGuid();
        for (var sequence = 1; sequence <= 6; sequence++)
            await bus.Publish(new MeterRead(meter, sequence));

        var db = await redis.Database();
        var meterStreams = PartitionKeys.Streams(keys, "MeterRead", 2);
        Assert.Equal(3, await db.StreamLengthAsync(meterStreams[PartitionKeys.Partition("0", 2)]));
        Assert.Equal(3, await db.StreamLengthAsync(meterStreams[PartitionKeys.Partition("1", 2)]));
    }

    [Fact]
    public async Task A_delayed_publish_and_a_send_to_the_exchange_address_go_to_the_partition_of_the_key_and_a_queue_is_never_partitioned()
    {
        var redis = await RedisTestContext.Create();
        var seen = new Recorder<Seen>();
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) =>
        {
            cfg.Partition<MeterRead>(3);
            cfg.ReceiveEndpoint("meters", e => PartitionSupport.Record<MeterRead>(e, "meters", seen));
        });
        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        var streams = PartitionKeys.Streams(new StreamKeys(redis.KeyPrefix), "MeterRead", 3).Select(x => x.ToString()).ToList();
        string StreamOf(Guid key) => streams[PartitionKeys.Partition(key.ToString("D"), 3)];

        var delayed = Guid.NewGuid();
        await bus.Publish(new MeterRead(delayed, 1), x => x.Delay = TimeSpan.FromMilliseconds(300));
        var db = await redis.Database();
        Assert.Equal(1, await db.SortedSetLengthAsync(redis.KeyPrefix + ":{" + StreamOf(delayed) + "}:delayed"));

        var exchanged = Guid.NewGuid();
        await (await bus.GetSendEndpoint(new Uri("exchange:MeterRead"))).Send(new MeterRead(exchanged, 2));

        var sent = Guid.NewGuid();
        await (await bus.GetSendEndpoint(new Uri("queue:meters"))).Send(new MeterRead(sent, 3));

        var all = await seen.WaitForCount(3);
        Assert.Equal(StreamOf(delayed), Assert.Single(all, x => x.Key == delayed).Stream);
        Assert.Equal(StreamOf(exchanged), Assert.Single(all, x => x.Key == exchanged).Stream);
        Assert.Equal(redis.Key("queue:meters").ToString(), Assert.Single(all, x => x.Key == sent).Stream);
    }

    [Fact]
    public async Task A_message_without_a_key_goes_to_the_partition_of_its_message_id()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) => cfg.Partition<MeterRead>(3));
        var bus = provider.GetRequiredService<ITestHarness>().Bus;

        var messageIds = Enumerable.Range(0, 12).Select(_ => NewId.NextGuid()).ToList();
        foreach (var messageId in messageIds)
            await bus.Publish(new MeterRead(Guid.Empty, 1), x => x.MessageId = messageId);

        var db = await redis.Database();
        var streams = PartitionKeys.Streams(new StreamKeys(redis.KeyPrefix), "MeterRead", 3);
        foreach (var messageId in messageIds)
        {
            var stream = streams[PartitionKeys.Partition(messageId.ToString("D"), 3)];
            var entries = await db.StreamRangeAsync(stream);
            Assert.Contains(entries, x => x.Values.Any(v => v.Value.ToString().Contains(messageId.ToString("D"), StringComparison.OrdinalIgnoreCase)));
        }
    }

    [Fact]
    public void Bad_partition_counts_are_refused_with_a_message_that_says_what_is_allowed()
    {
        var partitioning = new Transport.MessagePartitioning();

        var zero = Assert.Throws<ArgumentException>(() => partitioning.Set<MeterRead>(0, null));
        Assert.Contains("MeterRead", zero.Message);
        Assert.Contains("between 1 (not partitioned) and 1024", zero.Message);
        Assert.Equal("partitions", zero.ParamName);

        Assert.Throws<ArgumentException>(() => partitioning.Set<MeterRead>(1025, null));

        var attribute = Assert.Throws<ArgumentException>(() => partitioning.For<WronglyPartitioned>());
        Assert.Contains("WronglyPartitioned is 0", attribute.Message);

        // One partition is no partitioning.
        partitioning.Set<MeterRead>(1, null);
        Assert.Null(partitioning.For<MeterRead>());
        partitioning.Set<MeterRead>(1024, null);
        Assert.Equal(1024, partitioning.For<MeterRead>()!.Count);
    }

    [Fact]
    public async Task The_bus_configuration_refuses_a_bad_count_and_a_missing_key()
    {
        var redis = await RedisTestContext.Create();

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => redis.StartHarness(_ => { }, (_, cfg) => cfg.Partition<MeterRead>(-1)));
        Assert.Contains("between 1 (not partitioned) and 1024", Flatten(failure));

        failure = await Assert.ThrowsAnyAsync<Exception>(() => redis.StartHarness(_ => { }, (_, cfg) => cfg.Partition<MeterRead>(3, null!)));
        Assert.Contains("key", Flatten(failure));
    }

    static string Flatten(Exception exception)
    {
        var text = "";
        for (var e = exception; e != null; e = e.InnerException)
            text += e.Message + "\n";
        return text;
    }
}
