namespace MassTransit.RedisStreams.Tests.Archive;

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Infrastructure;
using Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>The operator's tool with <c>--archive</c>: info says where each part of a stream lives, history reads both.</summary>
public sealed class ArchiveCliTests :
    IDisposable
{
    readonly string _directory = Path.Combine(Path.GetTempPath(), "mt-archive-cli-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Info_shows_the_archived_part_and_the_part_in_redis_and_history_reads_across_them()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var stream = redis.Key("events:LotSold");
        var ids = new List<string>();
        for (var i = 0; i < 30; i++)
            ids.Add((string)(await db.StreamAddAsync(stream, "body", $"{{\"lot\":{i}}}"))!);

        using var multiplexer = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        await new RedisStreamsAdmin(multiplexer, redis.KeyPrefix, retention: r =>
        {
            r.Events = RedisStreamsRetentionPolicy.Entries(10);
            r.ArchiveToDirectory(_directory, a => a.SegmentEntries = 12);
        }).Trim();

        var info = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "info", "LotSold", "--archive", _directory);
        Assert.True(info.ExitCode == 0, info.ToString());
        Assert.Contains($"20 entries in 2 segments, {ids[0]}..{ids[19]}", info.Output);
        Assert.Contains(Path.GetFullPath(_directory), info.Output.Replace("\n", "", StringComparison.Ordinal));
        Assert.Contains($"10 entries, {ids[20]}..{ids[29]} (archived up to {ids[19]})", info.Output);

        var json = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "info", "LotSold", "--archive", _directory, "-o", "json");
        using (var document = JsonDocument.Parse(json.Output))
        {
            var archive = document.RootElement.GetProperty("archive");
            Assert.Equal(2, archive.GetProperty("segments").GetInt32());
            Assert.Equal(20, archive.GetProperty("entries").GetInt64());
            Assert.Equal(ids[19], archive.GetProperty("archivedUpTo").GetString());
            Assert.Equal(10, document.RootElement.GetProperty("stream").GetProperty("length").GetInt64());
        }

        var history = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "history", "LotSold", "-n", "15", "--archive", _directory);
        Assert.True(history.ExitCode == 0, history.ToString());
        using (var document = JsonDocument.Parse(history.Output))
        {
            var events = document.RootElement.EnumerateArray().ToList();
            Assert.Equal(ids.AsEnumerable().Reverse().Take(15), events.Select(x => x.GetProperty("id").GetString()));
            Assert.Equal(Enumerable.Repeat("redis", 10).Concat(Enumerable.Repeat("archive", 5)), events.Select(x => x.GetProperty("in").GetString()));
            Assert.Equal(15, events[14].GetProperty("message").GetProperty("lot").GetInt32());
        }

        // Without --archive, history shows what Redis holds, as before.
        var redisOnly = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "history", "LotSold", "-n", "15");
        using (var document = JsonDocument.Parse(redisOnly.Output))
            Assert.Equal(10, document.RootElement.GetArrayLength());

        // Without --archive, a stream that retention archives is not trimmed: what it removed would be lost.
        var refused = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "trim", "--events", "4", "--yes");
        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Contains("--delete-unarchived", refused.ToString());
        Assert.Equal(10, await db.StreamLengthAsync(stream));

        // trim --archive archives what its policy removes, as the bus does.
        var trim = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "trim", "--events", "4", "--archive", _directory, "--yes");
        Assert.True(trim.ExitCode == 0, trim.ToString());
        Assert.Contains($"Archived 6 entries of {stream} first", trim.Output);
        Assert.Equal(4, await db.StreamLengthAsync(stream));
        Assert.Equal(26, (await RedisStreamsParquetArchive.Directory(_directory).GetSegments(stream.ToString())).Sum(x => x.Count));

        // --delete-unarchived says that deleting is meant.
        var deleted = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "trim", "--events", "2", "--delete-unarchived", "--yes");
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Equal(2, await db.StreamLengthAsync(stream));
        Assert.Equal(26, (await RedisStreamsParquetArchive.Directory(_directory).GetSegments(stream.ToString())).Sum(x => x.Count));
    }
}
