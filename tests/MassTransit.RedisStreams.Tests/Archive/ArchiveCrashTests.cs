namespace MassTransit.RedisStreams.Tests.Archive;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using History;
using Redis;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;


/// <summary>
/// Archiving is crash-safe: a process archiving a stream is killed (SIGKILL) at each step of its first segment — its file
/// written but not in place, in place but not recorded, recorded but not trimmed, trimmed — and a second process finishes the
/// job. Nothing is lost, nothing is archived twice, and the history reads every entry once, in order, at every point.
/// </summary>
public sealed class ArchiveCrashTests :
    IDisposable
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    readonly string _directory = Path.Combine(Path.GetTempPath(), "mt-archive-crash-" + Guid.NewGuid().ToString("N"));
    readonly ITestOutputHelper _output;

    public ArchiveCrashTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [InlineData("written")]
    [InlineData("stored")]
    [InlineData("recorded")]
    [InlineData("trimmed")]
    public async Task A_process_killed_at_any_step_loses_nothing_and_archives_nothing_twice(string step)
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var stream = redis.Key("events:LotSold");
        var mark = redis.Beside("events:LotSold", "archived");

        var ids = new List<string>();
        for (var i = 0; i < 100; i++)
            ids.Add((string)(await db.StreamAddAsync(stream, "body", $"{{\"lot\":{i},\"buyer\":\"b\",\"price\":1}}"))!);

        // Keep 20; 80 go in segments of 30, 30 and 20. The first segment's process dies at the step.
        var first = await Run(redis, ("stop-at", step));
        Assert.Contains("stopped-at " + step, first);

        var archive = RedisStreamsParquetArchive.Directory(_directory);
        var segments = await archive.GetSegments(stream.ToString());
        switch (step)
        {
            case "written":
                Assert.Empty(segments);
                Assert.Single(Directory.GetFiles(_directory, ".tmp-*", SearchOption.AllDirectories));
                Assert.False(await db.KeyExistsAsync(mark));
                Assert.Equal(100, await db.StreamLengthAsync(stream));
                break;
            case "stored":
                Assert.Single(segments);
                Assert.False(await db.KeyExistsAsync(mark));
                Assert.Equal(100, await db.StreamLengthAsync(stream));
                break;
            case "recorded":
                Assert.Equal(ids[29], (string?)await db.StringGetAsync(mark));
                Assert.Equal(100, await db.StreamLengthAsync(stream));
                break;
            case "trimmed":
                Assert.Equal(ids[29], (string?)await db.StringGetAsync(mark));
                Assert.Equal(70, await db.StreamLengthAsync(stream));
                break;
        }

        // Whatever the step, the history reads every entry once, in order.
        using var multiplexer = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var history = new RedisStreamsEventHistory(multiplexer, redis.KeyPrefix).WithArchive(archive);
        Assert.Equal(ids, await ReadIds(history));

        var second = await Run(redis);
        Assert.Contains(second, x => x.StartsWith("archived ", StringComparison.Ordinal));

        segments = await archive.GetSegments(stream.ToString());
        Assert.Equal(80, segments.Sum(x => x.Count));
        Assert.Equal([30L, 30L, 20L], segments.Select(x => x.Count));

        var archived = new List<string>();
        foreach (var segment in segments)
        {
            await foreach (var entry in archive.Read(segment))
                archived.Add(entry.Id!);
        }

        Assert.Equal(ids.Take(80), archived);
        Assert.Equal(ids.Skip(80), (await db.StreamRangeAsync(stream, "-", "+")).Select(x => (string)x.Id!));
        Assert.Equal(ids[79], (string?)await db.StringGetAsync(mark));
        Assert.Equal(ids, await ReadIds(history));
        Assert.Equal(Enumerable.Range(0, 100).Reverse(), (await history.GetEvents<LotSold>(count: 200)).Select(x => x.Message!.Lot));
    }

    static async Task<List<string>> ReadIds(RedisStreamsEventHistory history)
    {
        var read = new List<string>();
        await foreach (var e in history.ReadEvents<LotSold>())
            read.Add(e.EntryId);
        return read;
    }

    /// <summary>Runs one archiving pass in a process of its own; with <c>stop-at</c>, kills it (SIGKILL) once it stops there.</summary>
    async Task<IReadOnlyList<string>> Run(RedisTestContext redis, params (string Name, string Value)[] options)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MassTransit.RedisStreams.TestHost.dll"));
        foreach (var (name, value) in new[] { ("redis", redis.ConnectionString), ("prefix", redis.KeyPrefix), ("archive", _directory), ("keep", "20"),
                     ("segment", "30") }.Concat(options))
        {
            start.ArgumentList.Add("--" + name);
            start.ArgumentList.Add(value);
        }

        var lines = new ConcurrentQueue<string>();
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("The archiving process did not start");
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == null)
                return;

            lines.Enqueue(e.Data);
            if (e.Data.StartsWith("stopped-at ", StringComparison.Ordinal))
                stopped.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data != null)
                lines.Enqueue("! " + e.Data);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            if (options.Any(x => x.Name == "stop-at"))
            {
                await Task.WhenAny(stopped.Task, process.WaitForExitAsync()).WaitAsync(Timeout);
                Assert.True(stopped.Task.IsCompleted, "The process ended before the step: " + string.Join('\n', lines));
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync().WaitAsync(Timeout);
            process.WaitForExit();
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);

            foreach (var line in lines)
                _output.WriteLine(line);
        }

        if (!options.Any(x => x.Name == "stop-at"))
            Assert.True(process.ExitCode == 0, "The archiving process failed: " + string.Join('\n', lines));

        return lines.ToArray();
    }
}
