namespace MassTransit.RedisStreams.Benchmarks;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// <c>archive [--events N]</c>: the archive's costs. Stores N events of about 100 bytes of JSON (an AuctionEnded) in the
/// transport's own format — one published through the bus, its entry copied N times with new message IDs — and measures Redis
/// memory per event; archives half with retention (Parquet, Zstandard, in a temporary directory) and measures the archive's
/// bytes per event and the time; then reads the whole history oldest first and replays it to an endpoint, across the seam,
/// with the time and the memory (the live managed heap after a full collection every 10% of the events, and the process's
/// peak working set).
/// </summary>
static class ArchiveBenchmark
{
    public const string Mode = "archive";

    public static async Task<int> Run(string[] args)
    {
        var events = args.Length > 1 && args[0] == "--events" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
        var directory = Path.Combine(Path.GetTempPath(), "mt-archive-bench-" + Guid.NewGuid().ToString("N")[..8]);

        using var redis = PrivateRedis.Start(appendOnly: false);
        using var multiplexer = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = multiplexer.GetDatabase();
        const string prefix = "bench";

        try
        {
            // One event through the bus: its entry is the template.
            var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
            {
                cfg.Host(redis.ConnectionString, h => h.KeyPrefix = prefix);
                cfg.Retention(r => r.Enabled = false);
                cfg.ReceiveEndpoint("auction-reports", e => e.Handler<AuctionEnded>(_ => Task.CompletedTask));
            });
            await bus.StartAsync();
            var first = new AuctionEnded(Guid.NewGuid(), "Rolex Submariner", "bidder-42", 12_500.00m);
            await bus.Publish(first);
            var stream = multiplexer.GetServers()[0].Keys(pattern: prefix + ":events:*").Single();
            var template = (await db.StreamRangeAsync(stream, "-", "+", 1))[0];
            await bus.StopAsync();
            await db.KeyDeleteAsync(stream);
            await db.StreamCreateConsumerGroupAsync(stream, "auction-reports", "$", createStream: true);

            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            Console.WriteLine($"event: {stream}, {(int)template["body"].Length()} bytes of JSON, {template.Values.Length} fields");

            var watch = Stopwatch.StartNew();
            const int batch = 2_000;
            for (var i = 0; i < events; i += batch)
            {
                var adds = new List<Task>(batch);
                for (var j = i; j < Math.Min(events, i + batch); j++)
                {
                    // Each event its own: a new auction ID, winner and amount, and message ID.
                    var body = ((string)template["body"]!).Replace(first.AuctionId.ToString(), Guid.NewGuid().ToString(), StringComparison.Ordinal)
                        .Replace("bidder-42", "bidder-" + Random.Shared.Next(1000, 9999), StringComparison.Ordinal)
                        .Replace("12500", Random.Shared.Next(10000, 99999).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
                    var fields = template.Values.Select(x => x.Name == "MessageId" ? new NameValueEntry(x.Name, NewId.NextGuid().ToString())
                        : x.Name == "body" ? new NameValueEntry(x.Name, body) : x).ToArray();
                    adds.Add(db.StreamAddAsync(stream, fields));
                }

                await Task.WhenAll(adds);
            }

            // The group stands after every entry: nothing holds them back from retention.
            await db.ExecuteAsync("XGROUP", "SETID", stream, "auction-reports", "$");
            Console.WriteLine($"stored {events:N0} events in {watch.Elapsed.TotalSeconds:F1} s");

            var memory = (long)await db.ExecuteAsync("MEMORY", "USAGE", stream, "SAMPLES", "0");
            Console.WriteLine($"redis: {memory:N0} bytes, {memory / (double)events:F0} bytes per event");

            var archive = RedisStreamsParquetArchive.Directory(directory);
            var admin = new RedisStreamsAdmin(multiplexer, prefix, retention: r =>
            {
                r.Events = RedisStreamsRetentionPolicy.Entries(events / 2);
                r.Archive(archive);
            });

            watch.Restart();
            var report = await admin.Trim();
            var archived = report.Archived.GetValueOrDefault(stream.ToString());
            var segments = await archive.GetSegments(stream.ToString());
            var bytes = segments.Sum(x => x.Bytes);
            Console.WriteLine($"archived {archived:N0} events in {segments.Count} segments in {watch.Elapsed.TotalSeconds:F1} s "
                + $"({archived / watch.Elapsed.TotalSeconds:N0}/s): {bytes:N0} bytes, {bytes / (double)archived:F1} bytes per event "
                + $"({memory / (double)events / (bytes / (double)archived):F1}x smaller than in Redis)");
            var left = (long)await db.ExecuteAsync("MEMORY", "USAGE", stream, "SAMPLES", "0");
            Console.WriteLine($"redis after: {await db.StreamLengthAsync(stream):N0} events, {left:N0} bytes");

            var history = new RedisStreamsEventHistory(multiplexer, prefix).WithArchive(archive);
            Console.WriteLine($"live heap before reading: {GC.GetTotalMemory(forceFullCollection: true) / 1024.0 / 1024:F1} MB");
            var sampler = new HeapSampler(events / 10);

            watch.Restart();
            long read = 0;
            await foreach (var e in history.ReadEvents<AuctionEnded>())
            {
                if (e.Message == null)
                    throw new InvalidOperationException($"{e.EntryId} did not read: {e.Error}");
                sampler.Report(++read);
            }

            Console.WriteLine($"read {read:N0} events oldest first (half archived) in {watch.Elapsed.TotalSeconds:F1} s ({read / watch.Elapsed.TotalSeconds:N0}/s); "
                + $"live heap at most {sampler.Peak / 1024.0 / 1024:F1} MB");

            sampler = new HeapSampler(events / 10);
            watch.Restart();
            var replayed = await history.Replay<AuctionEnded>("auction-reports", progress: sampler);
            Console.WriteLine($"replayed {replayed:N0} events (half archived) in {watch.Elapsed.TotalSeconds:F1} s ({replayed / watch.Elapsed.TotalSeconds:N0}/s); "
                + $"live heap at most {sampler.Peak / 1024.0 / 1024:F1} MB");
            Console.WriteLine($"process peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1024.0 / 1024:F0} MB; "
                + $"load average now {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            return 0;
        }
        finally
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
    }


    /// <summary>The live managed heap, after a full collection, every <c>every</c> events.</summary>
    internal sealed class HeapSampler :
        IProgress<long>
    {
        readonly long _every;
        long _next;

        public HeapSampler(long every)
        {
            _every = Math.Max(1, every);
            _next = _every;
        }

        public long Peak { get; private set; }

        public void Report(long value)
        {
            if (value < _next)
                return;

            _next = (value / _every + 1) * _every;
            Peak = Math.Max(Peak, GC.GetTotalMemory(forceFullCollection: true));
        }
    }
}


public record AuctionEnded(Guid AuctionId, string Item, string? Winner, decimal Amount);
