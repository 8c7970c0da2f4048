namespace MassTransit.RedisStreams.Tests.Partitions;

using System;
using System.Linq;
using System.Threading.Tasks;
using Contract;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Redis;
using RedisStreams.Redis;
using Xunit;


/// <summary>
/// Changing a type's partition count while an endpoint consumes it: publishers with the new count write to the new layout,
/// the old streams stay sources that every group drains, and nothing is lost or read twice.
/// </summary>
public class PartitionCountChangeTests
{
    [Fact]
    public async Task Publishing_unpartitioned_then_in_three_then_in_two_partitions_delivers_every_event_once()
    {
        var redis = await RedisTestContext.Create();
        var seen = new Recorder<Seen>();

        // The consumer runs through all of it and is never reconfigured.
        await using var consumer = await redis.StartHarness(_ => { }, (_, cfg) => cfg.ReceiveEndpoint("ledger", e =>
        {
            e.ConcurrentMessageLimit = 1;
            PartitionSupport.Record<MeterRead>(e, "ledger", seen);
        }));

        var meters = PartitionSupport.Keys(6);
        var next = 0;

        async Task PublishBatch(IBus bus, int count)
        {
            for (var i = 0; i < count; i++)
            {
                var sequence = ++next;
                await bus.Publish(new MeterRead(meters[sequence % meters.Count], sequence));
            }
        }

        await using var unpartitioned = await redis.StartHarness(_ => { });
        await using var inThree = await redis.StartHarness(_ => { }, (_, cfg) => cfg.Partition<MeterRead>(3));
        await using var inTwo = await redis.StartHarness(_ => { }, (_, cfg) => cfg.Partition<MeterRead>(2));
        var one = unpartitioned.GetRequiredService<ITestHarness>().Bus;
        var three = inThree.GetRequiredService<ITestHarness>().Bus;
        var two = inTwo.GetRequiredService<ITestHarness>().Bus;

        await PublishBatch(one, 20);

        // A rolling deployment: old and new publishers side by side for a while.
        await PublishBatch(three, 10);
        await PublishBatch(one, 10);
        await PublishBatch(three, 10);

        await PublishBatch(two, 10);
        await PublishBatch(three, 10);
        await PublishBatch(two, 20);

        // Appended after everything else: once it has arrived at an endpoint that takes one message at a time in append
        // order, everything before it has too, and a duplicate would have.
        await PublishBatch(two, 1);
        var all = await seen.WaitFor(x => x.Any(y => y.Sequence == next), "the last event");

        Assert.Equal(Enumerable.Range(1, next), all.Select(x => x.Sequence).Order());
        Assert.Equal(next, seen.Items.Count);

        var keys = new StreamKeys(redis.KeyPrefix);
        var db = await redis.Database();
        Assert.Equal(30, await db.StreamLengthAsync(keys.Events("MeterRead")));
        Assert.Equal(30, await SumOfLengths(PartitionKeys.Streams(keys, "MeterRead", 3)));
        Assert.Equal(31, await SumOfLengths(PartitionKeys.Streams(keys, "MeterRead", 2)));

        // The type's info lists both layouts under it; the history reads all of it in order.
        var history = consumer.GetRequiredService<IRedisStreamsEventHistory>();
        var info = await history.GetStreamInfo<MeterRead>();
        Assert.Equal(next, info.Length);
        Assert.Equal([2, 2, 3, 3, 3], info.Partitions.Select(x => x.PartitionCount!.Value));

        var events = await history.GetEvents<MeterRead>(count: 1000);
        Assert.Equal(Enumerable.Range(1, next).Reverse(), events.Select(x => x.Message!.Sequence));

        // An endpoint that starts later reads the new layout too, without any configuration.
        var late = new Recorder<Seen>();
        await using var lateConsumer = await redis.StartHarness(_ => { }, (_, cfg) => cfg.ReceiveEndpoint("late", e =>
            PartitionSupport.Record<MeterRead>(e, "late", late)));
        await PublishBatch(three, 5);
        await PublishBatch(two, 5);
        var lateSeen = await late.WaitForCount(10);
        Assert.Equal(Enumerable.Range(next - 9, 10), lateSeen.Select(x => x.Sequence).Order());
        await seen.WaitForCount(next);
        Assert.Equal(next, seen.Items.Select(x => x.Sequence).Distinct().Count());

        async Task<long> SumOfLengths(StackExchange.Redis.RedisKey[] streams)
        {
            long total = 0;
            foreach (var stream in streams)
                total += await db.StreamLengthAsync(stream);
            return total;
        }
    }
}
