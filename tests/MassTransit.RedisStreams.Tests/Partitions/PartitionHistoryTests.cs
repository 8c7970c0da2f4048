namespace MassTransit.RedisStreams.Tests.Partitions;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Contract;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Redis;
using RedisStreams.Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// A partitioned type is one type to its history, its stream info, its replays, rewinds and retention: the partitions are
/// merged by time, totalled and listed under it.
/// </summary>
public class PartitionHistoryTests
{
    [Fact]
    public async Task History_info_replay_and_rewind_see_one_type_across_its_partitions()
    {
        var redis = await RedisTestContext.Create();
        var seen = new Recorder<(int Sequence, bool Replay)>();
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) =>
        {
            cfg.Partition<MeterRead>(3);
            cfg.ReceiveEndpoint("projection", e =>
            {
                e.ConcurrentMessageLimit = 1;
                e.Handler<MeterRead>(context =>
                {
                    context.TryGetPayload<RedisStreamsMessageContext>(out var r);
                    seen.Add((context.Message.Sequence, r!.IsReplay));
                    return Task.CompletedTask;
                });
            });
        });
        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        var history = provider.GetRequiredService<IRedisStreamsEventHistory>();

        var meters = PartitionSupport.Keys(10);
        for (var sequence = 1; sequence <= 30; sequence++)
            await bus.Publish(new MeterRead(meters[sequence % meters.Count], sequence));
        await seen.WaitForCount(30);

        // History: one type, merged by time, as the type and through the interface it implements.
        var all = await Collect(history.ReadEvents<MeterRead>());
        Assert.Equal(Enumerable.Range(1, 30), all.Select(x => x.Message!.Sequence));
        var streams = PartitionKeys.Streams(new StreamKeys(redis.KeyPrefix), "MeterRead", 3).Select(x => x.ToString()).ToList();
        Assert.Equal(streams.ToHashSet(), all.Select(x => x.StreamKey).ToHashSet());
        Assert.Equal([30, 29, 28], (await history.GetEvents<IMeterEvent>(count: 3)).Select(x => x.Message!.Sequence));

        // Info: the type as one, with its partitions.
        var info = await history.GetStreamInfo<MeterRead>();
        Assert.True(info.Exists);
        Assert.Equal(redis.Key("events:MeterRead").ToString(), info.StreamKey);
        Assert.Equal(30, info.Length);
        Assert.Equal(all[0].EntryId, info.FirstEntryId);
        Assert.Equal(all[^1].EntryId, info.LastEntryId);
        Assert.Equal(3, info.Partitions.Count);
        Assert.Equal(30, info.Partitions.Sum(x => x.Length));
        Assert.Equal(streams, info.Partitions.Select(x => x.StreamKey));
        Assert.All(info.Partitions, x =>
        {
            Assert.Equal(3, x.PartitionCount);
            Assert.Equal(PartitionKeys.Slot(x.StreamKey), x.HashSlot);
            Assert.InRange(x.HashSlot!.Value, x.Partition!.Value * 16384 / 3, (x.Partition.Value + 1) * 16384 / 3 - 1);
            Assert.Null(x.Node);
        });
        var group = Assert.Single(info.Groups);
        Assert.Equal("projection", group.Name);
        Assert.Equal(all[^1].EntryId, group.LastDeliveredId);

        var overview = await history.GetOverview();
        Assert.Single(overview, x => x.Name == "MeterRead" && x.Partitions.Count == 3 && x.Length == 30);
        Assert.DoesNotContain(overview, x => x.Name.Contains(":p", StringComparison.Ordinal));

        // Replay: every partition, in order, once.
        Assert.Equal(30, await history.Replay<MeterRead>("projection"));
        var replayed = (await seen.WaitFor(x => x.Count(y => y.Replay) == 30, "30 replays")).Where(x => x.Replay).Select(x => x.Sequence);
        Assert.Equal(Enumerable.Range(1, 30), replayed);

        // Rewind: the group moves on every partition.
        var moved = await history.Rewind("projection", to: all[20].EntryId);
        // The type's own stream too: the group was made on it when the endpoint started.
        Assert.Equal(streams.Prepend(redis.Key("events:MeterRead").ToString()).OrderBy(x => x, StringComparer.Ordinal), moved.Keys);
        // The partitions move one after the other while the endpoint reads, so the events come again each once, not
        // necessarily in order.
        var again = (await seen.WaitForCount(70)).Skip(60).Select(x => x.Sequence).Order();
        Assert.Equal(Enumerable.Range(21, 10), again);
    }

    [Fact]
    public async Task Retention_trims_each_partition_by_the_policy_of_its_type()
    {
        var redis = await RedisTestContext.Create();
        var seen = new Recorder<Seen>();
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) =>
        {
            cfg.Partition<MeterRead>(3);
            cfg.Retention(r => r.MessageType<MeterRead>(RedisStreamsRetentionPolicy.Entries(2)));
            cfg.ReceiveEndpoint("meters", e => PartitionSupport.Record<MeterRead>(e, "meters", seen));
        });
        var bus = provider.GetRequiredService<ITestHarness>().Bus;

        var meters = PartitionSupport.Keys(12);
        for (var sequence = 1; sequence <= 4; sequence++)
        {
            foreach (var meter in meters)
                await bus.Publish(new MeterRead(meter, sequence));
        }

        await seen.WaitForCount(48);
        var db = await redis.Database();
        var streams = PartitionKeys.Streams(new StreamKeys(redis.KeyPrefix), "MeterRead", 3);

        // Acknowledged everywhere, so the safe point of each partition is its end.
        Assert.True(await Infrastructure.Eventually.True(async () =>
        {
            foreach (var stream in streams)
            {
                if ((await db.StreamPendingAsync(stream, "meters")).PendingMessageCount > 0)
                    return false;
            }

            return true;
        }, TimeSpan.FromSeconds(15)));

        // A group that lags on one partition keeps that partition's entries it has not read; the others are trimmed.
        var lagging = streams[1];
        var before = await db.StreamLengthAsync(lagging);
        // The group of a durable endpoint (its queue exists) that stopped before it read anything there.
        await db.StreamAddAsync(redis.Key("queue:reports"), "body", "{}");
        await db.StreamCreateConsumerGroupAsync(lagging, "reports", "0");

        var report = await provider.GetRequiredService<IRedisStreamsAdmin>().Trim();

        foreach (var stream in streams.Where(x => x != lagging))
        {
            var length = await db.StreamLengthAsync(stream);
            Assert.Equal(2, length);
            Assert.True(report.Removed.ContainsKey(stream.ToString()), $"{stream} trimmed");
        }

        Assert.Equal(before, await db.StreamLengthAsync(lagging));
        Assert.False(report.Removed.ContainsKey(lagging.ToString()));
        Assert.Equal("reports", report.KeptForGroup[lagging.ToString()]);
    }

    [Fact]
    public async Task Retention_archives_each_partition_and_the_history_reads_the_archive_and_the_partitions_as_one_log()
    {
        var directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mt-archive-" + Guid.NewGuid().ToString("N"));
        try
        {
            var redis = await RedisTestContext.Create();
            var seen = new Recorder<Seen>();
            await using var provider = await redis.StartHarness(_ => { }, (_, cfg) =>
            {
                cfg.Partition<MeterRead>(3);
                cfg.Retention(r =>
                {
                    r.Enabled = false;
                    r.MessageType<MeterRead>(RedisStreamsRetentionPolicy.Entries(1));
                    r.ArchiveToDirectory(directory);
                });
                cfg.ReceiveEndpoint("meters", e => PartitionSupport.Record<MeterRead>(e, "meters", seen));
            });
            var bus = provider.GetRequiredService<ITestHarness>().Bus;

            var meters = PartitionSupport.Keys(9);
            for (var sequence = 1; sequence <= 27; sequence++)
                await bus.Publish(new MeterRead(meters[sequence % meters.Count], sequence));
            await seen.WaitForCount(27);

            var db = await redis.Database();
            var streams = PartitionKeys.Streams(new StreamKeys(redis.KeyPrefix), "MeterRead", 3);
            Assert.True(await Infrastructure.Eventually.True(async () =>
            {
                foreach (var stream in streams)
                {
                    if ((await db.StreamPendingAsync(stream, "meters")).PendingMessageCount > 0)
                        return false;
                }

                return true;
            }, TimeSpan.FromSeconds(15)));

            var report = await provider.GetRequiredService<IRedisStreamsAdmin>().Trim();

            foreach (var stream in streams)
            {
                var length = await db.StreamLengthAsync(stream);
                Assert.Equal(1, length);
                Assert.Equal(report.Archived[stream.ToString()], report.Removed[stream.ToString()]);
                Assert.True(await db.KeyExistsAsync(redis.Beside(stream.ToString()[(redis.KeyPrefix.Length + 1)..], "archived")), $"{stream} has its archive mark");
            }

            Assert.Equal(24, report.Archived.Values.Sum());

            var history = provider.GetRequiredService<IRedisStreamsEventHistory>();
            Assert.Equal(Enumerable.Range(1, 27), (await Collect(history.ReadEvents<MeterRead>())).Select(x => x.Message!.Sequence));
        }
        finally
        {
            if (System.IO.Directory.Exists(directory))
                System.IO.Directory.Delete(directory, recursive: true);
        }
    }

    static async Task<List<T>> Collect<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
            list.Add(item);
        return list;
    }
}
