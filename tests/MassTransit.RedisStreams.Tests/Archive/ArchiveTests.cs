namespace MassTransit.RedisStreams.Tests.Archive;

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Contract;
using History;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Parquet;
using Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// Retention that archives: what a policy removes is written to Parquet segments first, and the history, its reads and its
/// replays, read the archive and the stream as one log, in order, across the seam.
/// </summary>
public sealed class ArchiveTests :
    IDisposable
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    readonly string _directory = Path.Combine(Path.GetTempPath(), "mt-archive-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    public record Seen(int Lot, bool IsReplay);

    [Fact]
    public async Task Retention_archives_what_it_removes_and_the_history_reads_both_as_one_log()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await Start(redis);
        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        var seen = provider.GetRequiredService<Recorder<Seen>>();
        var history = provider.GetRequiredService<IRedisStreamsEventHistory>();
        var db = await redis.Database();
        var stream = redis.Key("events:LotSold");

        for (var i = 0; i < 40; i++)
            await bus.Publish(new LotSold(i, "b" + i, i));
        await seen.WaitForCount(40);
        Assert.True(await Eventually.True(async () => (await db.StreamPendingAsync(stream, "ledger")).PendingMessageCount == 0, Timeout));

        var report = await provider.GetRequiredService<IRedisStreamsAdmin>().Trim();

        // 30 go, in segments of at most 15, written before they leave Redis; 10 stay.
        Assert.Equal(30, report.Archived[stream.ToString()]);
        Assert.Equal(30, report.Removed[stream.ToString()]);
        Assert.Equal(10, await db.StreamLengthAsync(stream));

        var archive = RedisStreamsParquetArchive.Directory(_directory);
        var segments = await archive.GetSegments(stream.ToString());
        Assert.Equal([15L, 15L], segments.Select(x => x.Count));
        var all = await history.GetEvents<LotSold>(count: 100);
        Assert.Equal(Enumerable.Range(0, 40).Reverse(), all.Select(x => x.Message!.Lot));
        Assert.Equal(segments[^1].LastEntryId, all[10].EntryId);
        Assert.Equal(segments[^1].LastEntryId, (string?)await db.StringGetAsync(redis.Beside("events:LotSold", "archived")));

        // Every field comes back as it was: headers, IDs, times.
        Assert.All(all, x => Assert.Equal("b" + x.Message!.Lot, x.Message.Buyer));
        Assert.All(all, x => Assert.NotNull(x.MessageId));

        // Oldest first, and windows across the seam (lot 29 is the newest archived, lot 30 the oldest in Redis).
        var oldestFirst = new List<int>();
        await foreach (var e in history.ReadEvents<LotSold>())
            oldestFirst.Add(e.Message!.Lot);
        Assert.Equal(Enumerable.Range(0, 40), oldestFirst);

        var ids = all.ToDictionary(x => x.Message!.Lot, x => x.EntryId);
        var window = new List<int>();
        await foreach (var e in history.ReadEvents<LotSold>(from: ids[12], to: ids[33]))
            window.Add(e.Message!.Lot);
        Assert.Equal(Enumerable.Range(12, 22), window);

        var counted = new List<int>();
        await foreach (var e in history.ReadEvents<LotSold>(from: ids[27], count: 5))
            counted.Add(e.Message!.Lot);
        Assert.Equal([27, 28, 29, 30, 31], counted);

        Assert.Equal([32, 31, 30, 29, 28], (await history.GetEvents<LotSold>(count: 5, to: ids[32])).Select(x => x.Message!.Lot));
        Assert.Equal([14, 13, 12], (await history.GetEvents<LotSold>(count: 3, to: ids[14])).Select(x => x.Message!.Lot));

        // Derived types: the history of the interface reads the archived stream too.
        Assert.Equal(40, (await history.GetEvents<ILotEvent>(count: 100)).Count);
    }

    [Fact]
    public async Task A_replay_reaches_the_endpoint_with_the_archived_events_then_those_in_redis_in_order()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await Start(redis);
        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        var seen = provider.GetRequiredService<Recorder<Seen>>();
        var history = provider.GetRequiredService<IRedisStreamsEventHistory>();
        var db = await redis.Database();
        var stream = redis.Key("events:LotSold");

        for (var i = 0; i < 40; i++)
            await bus.Publish(new LotSold(i, "b", i));
        await seen.WaitForCount(40);
        Assert.True(await Eventually.True(async () => (await db.StreamPendingAsync(stream, "ledger")).PendingMessageCount == 0, Timeout));
        await provider.GetRequiredService<IRedisStreamsAdmin>().Trim();
        Assert.Equal(10, await db.StreamLengthAsync(stream));

        Assert.Equal(40, await history.Replay<LotSold>("ledger"));

        // Every event reaches the consumer, and the copies were appended to the queue oldest first.
        var replays = (await seen.WaitForCount(80)).Where(x => x.IsReplay).Select(x => x.Lot).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 40), replays);
        var stored = (await history.GetEvents<LotSold>(count: 100)).Reverse().Select(x => x.EntryId).ToList();
        Assert.Equal(stored, await ReplayedEntries(db, redis));

        // From a point inside the archive, a count that crosses the seam.
        var perEndpoint = await history.ReplayToConsumers<LotSold>(from: stored[25], count: 10);
        Assert.Equal(10, perEndpoint["ledger"]);
        var more = (await seen.WaitForCount(90)).Where(x => x.IsReplay).Skip(40).Select(x => x.Lot).Order();
        Assert.Equal(Enumerable.Range(25, 10), more);
        Assert.Equal(stored.Skip(25).Take(10), (await ReplayedEntries(db, redis)).Skip(40));
    }

    static async Task<List<string>> ReplayedEntries(IDatabase db, RedisTestContext redis)
    {
        var queue = await db.StreamRangeAsync(redis.Key("queue:ledger"), "-", "+");
        return queue.Select(x => (string?)x["MT-Redis-Replay-Entry"]).OfType<string>().ToList();
    }

    [Fact]
    public async Task A_segment_is_a_parquet_file_with_the_documented_schema_that_a_plain_reader_reads()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var stream = redis.Key("events:LotSold");
        for (var i = 0; i < 25; i++)
            await db.StreamAddAsync(stream, [new NameValueEntry("body", $"{{\"lot\":{i},\"buyer\":\"x\",\"price\":1}}"), new NameValueEntry("MT-Custom", "c" + i)]);

        using var multiplexer = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var admin = new RedisStreamsAdmin(multiplexer, redis.KeyPrefix, retention: r =>
        {
            r.Events = RedisStreamsRetentionPolicy.Entries(5);
            r.ArchiveToDirectory(_directory, a => a.RowGroupSize = 7);
        });
        var report = await admin.Trim();
        Assert.Equal(20, report.Archived[stream.ToString()]);

        var file = Directory.GetFiles(_directory, "*.parquet", SearchOption.AllDirectories).Single();
        Assert.Equal(Uri.EscapeDataString(stream.ToString()), Path.GetFileName(Path.GetDirectoryName(file)));

        await using var reader = await ParquetReader.CreateAsync(file);
        Assert.Equal(3, reader.RowGroupCount);
        Assert.Equal(["id", "ms", "seq", "fields/key_value/key", "fields/key_value/value"],
            reader.Schema.GetDataFields().Select(x => x.Path.ToString()));
        Assert.Equal(stream.ToString(), reader.CustomMetadata["masstransit.redisstreams.stream"]);

        using var group = reader.OpenRowGroupReader(0);
        var idField = reader.Schema.GetDataFields()[0];
        var ids = new string?[group.RowCount];
        await group.ReadAsync(idField, ids.AsMemory());
        var expected = await db.StreamRangeAsync(stream, "-", "+");
        Assert.Equal(7, ids.Length);
        Assert.StartsWith(ids[0]!, Path.GetFileName(file));

        // What the history makes of raw JSON entries: the same across the seam.
        var history = new RedisStreamsEventHistory(multiplexer, redis.KeyPrefix).WithArchive(RedisStreamsParquetArchive.Directory(_directory));
        var events = await history.GetEvents<LotSold>(count: 100);
        Assert.Equal(Enumerable.Range(0, 25).Reverse(), events.Select(x => x.Message!.Lot));
        Assert.All(events, x => Assert.Equal("c" + x.Message!.Lot, x.Headers.Get<string>("MT-Custom")));
        Assert.Equal(5, expected.Length);
    }

    [Fact]
    public async Task Entries_a_group_still_needs_are_neither_removed_nor_archived()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var stream = redis.Key("events:LotSold");
        var ids = new List<RedisValue>();
        for (var i = 0; i < 20; i++)
            ids.Add(await db.StreamAddAsync(stream, "body", $"{{\"lot\":{i}}}"));

        // A group that has read 8 entries and acknowledged none: the oldest of them is still needed.
        await db.StreamCreateConsumerGroupAsync(stream, "slow", "0");
        await db.StreamReadGroupAsync(stream, "slow", "c", ">", 8);

        using var multiplexer = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var admin = new RedisStreamsAdmin(multiplexer, redis.KeyPrefix, retention: r =>
        {
            r.Events = RedisStreamsRetentionPolicy.Entries(0);
            r.ArchiveToDirectory(_directory);
        });
        var report = await admin.Trim();
        Assert.False(report.Archived.ContainsKey(stream.ToString()));
        Assert.Equal(20, await db.StreamLengthAsync(stream));
        Assert.Equal("slow", report.KeptForGroup[stream.ToString()]);

        // Acknowledged: the 8 go, archived; the 12 the group has not read stay.
        await db.StreamAcknowledgeAsync(stream, "slow", ids.Take(8).ToArray());
        report = await admin.Trim();
        Assert.Equal(8, report.Archived[stream.ToString()]);
        Assert.Equal(12, await db.StreamLengthAsync(stream));
    }

    [Fact]
    public async Task A_message_type_can_be_left_out_of_the_archive_or_a_fault_stream_put_in()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var archived = redis.Key("events:LotSold");
        var deleted = redis.Key("events:LotWithdrawn");
        var faults = redis.Key("events:MassTransit:Fault--LotSold");
        foreach (var stream in new[] { archived, deleted, faults })
        {
            for (var i = 0; i < 10; i++)
                await db.StreamAddAsync(stream, "body", $"{{\"lot\":{i}}}");
        }

        using var multiplexer = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var admin = new RedisStreamsAdmin(multiplexer, redis.KeyPrefix, retention: r =>
        {
            r.Events = RedisStreamsRetentionPolicy.Entries(4);
            r.ArchiveToDirectory(_directory);
            r.EntityName("LotWithdrawn", RedisStreamsRetentionPolicy.Entries(4), archive: false);
            r.EntityName("MassTransit:Fault--LotSold", RedisStreamsRetentionPolicy.Entries(4), archive: true);
        });

        var report = await admin.Trim();
        Assert.Equal(6, report.Archived[archived.ToString()]);
        Assert.Equal(6, report.Archived[faults.ToString()]);
        Assert.False(report.Archived.ContainsKey(deleted.ToString()));
        Assert.Equal(6, report.Removed[deleted.ToString()]);
        Assert.Empty(await RedisStreamsParquetArchive.Directory(_directory).GetSegments(deleted.ToString()));
    }

    [Fact]
    public async Task When_the_archive_fails_nothing_is_removed_and_the_next_pass_archives()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var stream = redis.Key("events:LotSold");
        for (var i = 0; i < 20; i++)
            await db.StreamAddAsync(stream, "body", $"{{\"lot\":{i}}}");

        // A file where the archive's directory should be: every write fails.
        await File.WriteAllTextAsync(_directory, "not a directory");

        using var multiplexer = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var admin = new RedisStreamsAdmin(multiplexer, redis.KeyPrefix, retention: r =>
        {
            r.Events = RedisStreamsRetentionPolicy.Entries(5);
            r.ArchiveToDirectory(_directory);
        });

        var report = await admin.Trim();
        Assert.True(report.ArchiveFailures.ContainsKey(stream.ToString()));
        Assert.False(report.Removed.ContainsKey(stream.ToString()));
        Assert.Equal(20, await db.StreamLengthAsync(stream));

        File.Delete(_directory);
        report = await admin.Trim();
        Assert.Empty(report.ArchiveFailures);
        Assert.Equal(15, report.Archived[stream.ToString()]);
        Assert.Equal(5, await db.StreamLengthAsync(stream));
    }

    [Fact]
    public async Task A_read_that_retention_archives_under_reads_every_entry_once_in_order()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var stream = redis.Key("events:LotSold");
        var ids = new List<string>();
        for (var i = 0; i < 1000; i++)
            ids.Add((string)(await db.StreamAddAsync(stream, "body", $"{{\"lot\":{i}}}"))!);

        using var multiplexer = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var archive = RedisStreamsParquetArchive.Directory(_directory);
        var admin = new RedisStreamsAdmin(multiplexer, redis.KeyPrefix, retention: r =>
        {
            r.Events = RedisStreamsRetentionPolicy.Entries(800);
            r.Archive(archive);
        });
        var moreAdmin = new RedisStreamsAdmin(multiplexer, redis.KeyPrefix, retention: r =>
        {
            r.Events = RedisStreamsRetentionPolicy.Entries(100);
            r.Archive(archive);
        });
        await admin.Trim();
        Assert.Equal(800, await db.StreamLengthAsync(stream));

        var history = new RedisStreamsEventHistory(multiplexer, redis.KeyPrefix).WithArchive(archive);

        // Oldest first: 250 read (past the seam at 200, into Redis), then 700 more are archived and removed under the reader.
        var read = new List<string>();
        await foreach (var e in history.ReadEvents<LotSold>())
        {
            read.Add(e.EntryId);
            if (read.Count == 250)
                Assert.Equal(700, (await moreAdmin.Trim()).Archived[stream.ToString()]);
        }

        Assert.Equal(100, await db.StreamLengthAsync(stream));
        Assert.Equal(ids, read);

        // Newest first: 300 more, 400 in Redis; 50 read, then all but 10 archived and removed under the reader.
        for (var i = 1000; i < 1300; i++)
            ids.Add((string)(await db.StreamAddAsync(stream, "body", $"{{\"lot\":{i}}}"))!);
        var evenMore = new RedisStreamsAdmin(multiplexer, redis.KeyPrefix, retention: r =>
        {
            r.Events = RedisStreamsRetentionPolicy.Entries(10);
            r.Archive(archive);
        });

        var newest = new List<string>();
        await foreach (var (_, entry) in history.ReadStored("LotSold", null, null, newestFirst: true))
        {
            newest.Add(entry.Id!);
            if (newest.Count == 50)
                Assert.Equal(390, (await evenMore.Trim()).Archived[stream.ToString()]);
        }

        Assert.Equal(10, await db.StreamLengthAsync(stream));
        Assert.Equal(ids.AsEnumerable().Reverse(), newest);
        Assert.Equal(ids.AsEnumerable().Reverse().Take(400), (await history.GetEvents<LotSold>(count: 400)).Select(x => x.EntryId));
    }

    Task<ServiceProvider> Start(RedisTestContext redis)
    {
        return redis.StartHarness(_ => { }, (context, cfg) =>
        {
            cfg.Retention(r =>
            {
                r.Enabled = false;
                r.MessageType<LotSold>(RedisStreamsRetentionPolicy.Entries(10));
                r.ArchiveToDirectory(_directory, a =>
                {
                    a.SegmentEntries = 15;
                    a.RowGroupSize = 4;
                });
            });

            var seen = context.GetRequiredService<Recorder<Seen>>();
            cfg.ReceiveEndpoint("ledger", e => e.Handler<LotSold>(ctx =>
            {
                seen.Add(new Seen(ctx.Message.Lot, ctx.TryGetPayload<RedisStreamsMessageContext>(out var r) && r.IsReplay));
                return Task.CompletedTask;
            }));
        }, services: s => s.AddSingleton<Recorder<Seen>>());
    }
}
