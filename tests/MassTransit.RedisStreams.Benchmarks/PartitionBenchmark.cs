namespace MassTransit.RedisStreams.Benchmarks;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisStreams.Redis;
using StackExchange.Redis;


/// <summary>
/// <c>partitions [--events N] [--replay-events N] [--quick]</c>: one hot message type on a private Redis Cluster of three
/// primaries, with 1 and with 3 partitions in one run. For each: the append rate of N publishes (256 in flight, 10,000 keys,
/// each key's events published one after the other), then the consume rate of one endpoint draining them with 32 handlers side
/// by side, checking that each key's events arrive in the order they were published; and where the type's memory lies, per
/// primary. Then the history of 3 partitions, half archived: N events stored, half archived with retention (Parquet,
/// Zstandard, a temporary directory), read oldest first and replayed to an endpoint, with time and memory.
/// </summary>
static class PartitionBenchmark
{
    public const string Mode = "partitions";

    const int Keys = 10_000;
    const int InFlight = 256;
    const int Handlers = 32;
    const string Endpoint = "hot-reports";

    public static async Task<int> Run(string[] args)
    {
        var quick = args.Contains("--quick");
        var events = Option(args, "--events") ?? (quick ? 20_000 : 150_000);
        var replayEvents = Option(args, "--replay-events") ?? (quick ? 60_000 : 1_000_000);

        using var cluster = await PrivateCluster.Start();
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load average {LoadAverage()}; a Redis Cluster of three primaries, "
            + "each a private redis-server on this machine, no replicas, no AOF");

        foreach (var partitions in new[] { 1, 3 })
            await Throughput(cluster, partitions, events);

        await History(cluster, replayEvents);

        Console.WriteLine($"process peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1024.0 / 1024:F0} MB; load average now {LoadAverage()}");
        return 0;
    }

    static async Task Throughput(PrivateCluster cluster, int partitions, int events)
    {
        var prefix = $"p{partitions}";
        await using var multiplexer = await ConnectionMultiplexer.ConnectAsync(cluster.ConnectionString + ",allowAdmin=true");
        var before = await UsedMemory(multiplexer);

        var order = new KeyOrderCheck(Keys);
        var consumed = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        IBusControl CreateBus(bool consume)
        {
            return Bus.Factory.CreateUsingRedisStreams(cfg =>
            {
                cfg.Host(cluster.ConnectionString, h => h.KeyPrefix = prefix);
                cfg.Retention(r => r.Enabled = false);
                if (partitions > 1)
                    cfg.Partition<HotEvent>(partitions);
                if (!consume)
                    return;

                cfg.ReceiveEndpoint(Endpoint, e =>
                {
                    e.PrefetchCount = 256;
                    e.ConcurrentMessageLimit = Handlers;
                    e.Handler<HotEvent>(context =>
                    {
                        order.Observe(context.Message.Key, context.Message.Sequence);
                        if (Interlocked.Increment(ref consumed) == events)
                            done.TrySetResult();
                        return Task.CompletedTask;
                    });
                });
            });
        }

        // The endpoint's groups are made (at the end of the streams) before anything is published, then it stops: what follows
        // is appended with nobody reading, then drained.
        var consumer = CreateBus(consume: true);
        await consumer.StartAsync();
        await consumer.StopAsync();

        var producer = CreateBus(consume: false);
        await producer.StartAsync();
        var keys = Enumerable.Range(0, Keys).Select(_ => NewId.NextGuid()).ToArray();
        var sequences = new long[Keys];
        await producer.Publish(new HotEvent(keys[0], 0, ++sequences[0]));

        var watch = Stopwatch.StartNew();
        var next = 1;
        var lanes = Enumerable.Range(0, InFlight).Select(lane => Task.Run(async () =>
        {
            // Each lane owns the keys lane, lane + 256, ...: a key's events are published one after the other.
            var owned = Enumerable.Range(0, Keys).Where(k => k % InFlight == lane).ToArray();
            for (var i = 0;; i++)
            {
                if (Interlocked.Increment(ref next) > events)
                    return;

                var key = owned[i % owned.Length];
                await producer.Publish(new HotEvent(keys[key], key, ++sequences[key]));
            }
        })).ToArray();
        await Task.WhenAll(lanes);
        var append = watch.Elapsed;
        await producer.StopAsync();

        var streams = await PartitionStreams(multiplexer, prefix, partitions);
        var memory = await StreamMemory(multiplexer, streams);
        var after = await UsedMemory(multiplexer);

        consumer = CreateBus(consume: true);
        watch.Restart();
        await consumer.StartAsync();
        var drained = await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromMinutes(5))) == done.Task;
        var consume = watch.Elapsed;
        await consumer.StopAsync();

        Console.WriteLine();
        Console.WriteLine($"{partitions} partition(s): appended {events:N0} events in {append.TotalSeconds:F1} s ({events / append.TotalSeconds:N0}/s); "
            + $"consumed {consumed:N0} in {consume.TotalSeconds:F1} s ({consumed / consume.TotalSeconds:N0}/s){(drained ? "" : " — NOT ALL ARRIVED")}");
        Console.WriteLine($"  per-key order, {Keys:N0} keys, {Handlers} handlers side by side: {order.OutOfOrder} out of order, "
            + $"{order.Repeated} repeated, {order.Keys} keys seen");

        var total = memory.Sum(x => x.Bytes);
        foreach (var (stream, node, slot, entries, bytes) in memory)
        {
            Console.WriteLine($"  {stream}: slot {slot} on {node}, {entries:N0} entries, {bytes:N0} bytes "
                + $"({bytes / (double)Math.Max(1, entries):F0} per entry, {100.0 * bytes / total:F1} % of the type)");
        }

        var perPrimary = after.Select(x => (x.Key, Delta: x.Value - before.GetValueOrDefault(x.Key))).OrderBy(x => x.Key).ToArray();
        var mean = perPrimary.Average(x => (double)x.Delta);
        Console.WriteLine("  used_memory grown per primary: " + string.Join(", ", perPrimary.Select(x => $"{x.Key} {x.Delta / 1024.0 / 1024:F1} MB")));
        if (partitions > 1)
        {
            var byNode = memory.GroupBy(x => x.Node).Select(x => x.Sum(y => (double)y.Bytes)).ToArray();
            var streamMean = byNode.Average();
            Console.WriteLine($"  the type's stream memory per primary: {string.Join(" / ", byNode.Select(x => $"{x / 1024 / 1024:F1} MB"))}; "
                + $"largest deviation from the mean {byNode.Max(x => Math.Abs(x - streamMean)) / streamMean * 100:F1} % "
                + $"(used_memory: {perPrimary.Max(x => Math.Abs(x.Delta - mean)) / mean * 100:F1} %)");
        }
    }

    /// <summary>Events stored in the 3 partitions, half archived, then read and replayed as one history.</summary>
    static async Task History(PrivateCluster cluster, int events)
    {
        const string prefix = "history";
        const int partitions = 3;
        var directory = Path.Combine(Path.GetTempPath(), "mt-partition-bench-" + Guid.NewGuid().ToString("N")[..8]);
        await using var multiplexer = await ConnectionMultiplexer.ConnectAsync(cluster.ConnectionString + ",allowAdmin=true");
        var db = multiplexer.GetDatabase();

        try
        {
            // One event per partition through the bus: the templates, and the endpoint's groups on every partition.
            var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
            {
                cfg.Host(cluster.ConnectionString, h => h.KeyPrefix = prefix);
                cfg.Retention(r => r.Enabled = false);
                cfg.Partition<HotEvent>(partitions);
                cfg.ReceiveEndpoint(Endpoint, e => e.Handler<HotEvent>(_ => Task.CompletedTask));
            });
            await bus.StartAsync();
            var streams = await PartitionStreams(multiplexer, prefix, partitions, async () =>
            {
                var key = NewId.NextGuid();
                await bus.Publish(new HotEvent(key, 0, 1));
            });
            await bus.StopAsync();

            var templates = new StreamEntry[partitions];
            for (var p = 0; p < partitions; p++)
                templates[p] = (await db.StreamRangeAsync(streams[p], "-", "+", 1))[0];

            var watch = Stopwatch.StartNew();
            const int batch = 3_000;
            for (var i = 0; i < events; i += batch)
            {
                var adds = new List<Task>(batch);
                for (var j = i; j < Math.Min(events, i + batch); j++)
                {
                    // Each event its own key, to the partition the key picks, as the publisher would.
                    var key = NewId.NextGuid();
                    var partition = PartitionKeys.Partition(key.ToString("D"), partitions);
                    var template = templates[partition];
                    var fields = template.Values.Select(x => x.Name == "MessageId" ? new NameValueEntry(x.Name, NewId.NextGuid().ToString())
                        : x.Name == "CorrelationId" ? new NameValueEntry(x.Name, key.ToString())
                        : x.Name == "body" ? new NameValueEntry(x.Name, $"{{\"correlationId\":\"{key}\",\"key\":{j % Keys},\"sequence\":{j}}}")
                        : x).ToArray();
                    adds.Add(db.StreamAddAsync(streams[partition], fields));
                }

                await Task.WhenAll(adds);
            }

            Console.WriteLine();
            Console.WriteLine($"history: stored {events:N0} events in {partitions} partitions in {watch.Elapsed.TotalSeconds:F1} s");

            // The groups stand after every entry: nothing holds them back from retention.
            foreach (var stream in streams)
                await db.ExecuteAsync("XGROUP", "SETID", stream, Endpoint, "$");

            var memory = await StreamMemory(multiplexer, streams);
            var stored = memory.Sum(x => x.Entries);
            var bytesInRedis = memory.Sum(x => x.Bytes);
            Console.WriteLine($"  redis: {bytesInRedis:N0} bytes, {bytesInRedis / (double)stored:F0} bytes per event; per partition "
                + string.Join(" / ", memory.Select(x => $"{x.Entries:N0} on {x.Node}")));

            var archive = RedisStreamsParquetArchive.Directory(directory);
            var admin = new RedisStreamsAdmin(multiplexer, prefix, retention: r =>
            {
                r.Events = RedisStreamsRetentionPolicy.Entries(events / 2 / partitions);
                r.Archive(archive);
            });

            watch.Restart();
            var report = await admin.Trim();
            var archived = streams.Sum(x => report.Archived.GetValueOrDefault(x.ToString()));
            long archiveBytes = 0;
            foreach (var stream in streams)
                archiveBytes += (await archive.GetSegments(stream.ToString())).Sum(x => x.Bytes);
            Console.WriteLine($"  archived {archived:N0} events in {watch.Elapsed.TotalSeconds:F1} s ({archived / watch.Elapsed.TotalSeconds:N0}/s): "
                + $"{archiveBytes:N0} bytes, {archiveBytes / (double)Math.Max(1, archived):F1} bytes per event "
                + $"({bytesInRedis / (double)stored / (archiveBytes / (double)Math.Max(1, archived)):F1}x smaller than in Redis)");

            var history = new RedisStreamsEventHistory(multiplexer, prefix).WithArchive(archive);
            Console.WriteLine($"  live heap before reading: {GC.GetTotalMemory(forceFullCollection: true) / 1024.0 / 1024:F1} MB");
            var sampler = new ArchiveBenchmark.HeapSampler(events / 10);

            watch.Restart();
            long read = 0;
            string? last = null;
            var outOfOrder = 0;
            await foreach (var e in history.ReadEvents<HotEvent>())
            {
                if (e.Message == null)
                    throw new InvalidOperationException($"{e.EntryId} did not read: {e.Error}");
                if (last != null && StreamEntryId.Parse(last) > StreamEntryId.Parse(e.EntryId))
                    outOfOrder++;
                last = e.EntryId;
                sampler.Report(++read);
            }

            Console.WriteLine($"  read {read:N0} events oldest first (half archived, 3 partitions merged) in {watch.Elapsed.TotalSeconds:F1} s "
                + $"({read / watch.Elapsed.TotalSeconds:N0}/s), {outOfOrder} out of entry ID order; live heap at most {sampler.Peak / 1024.0 / 1024:F1} MB");

            sampler = new ArchiveBenchmark.HeapSampler(events / 10);
            watch.Restart();
            var replayed = await history.Replay<HotEvent>(Endpoint, progress: sampler);
            Console.WriteLine($"  replayed {replayed:N0} events (half archived) to {Endpoint} in {watch.Elapsed.TotalSeconds:F1} s "
                + $"({replayed / watch.Elapsed.TotalSeconds:N0}/s); live heap at most {sampler.Peak / 1024.0 / 1024:F1} MB");
        }
        finally
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The type's partition streams, in partition order; publishes (if given) until each has an entry.</summary>
    static async Task<RedisKey[]> PartitionStreams(ConnectionMultiplexer multiplexer, string prefix, int partitions, Func<Task>? publish = null)
    {
        var history = new RedisStreamsEventHistory(multiplexer, prefix);
        for (var attempt = 0; attempt < 1_000; attempt++)
        {
            var info = await history.GetStreamInfo<HotEvent>();
            var streams = partitions == 1
                ? [info]
                : info.Partitions.Where(x => x.PartitionCount == partitions).OrderBy(x => x.Partition).ToArray();
            if (streams.Length == partitions && streams.All(x => x.Exists && x.Length > 0))
                return streams.Select(x => (RedisKey)x.StreamKey).ToArray();
            if (publish == null)
                break;

            await publish();
        }

        throw new InvalidOperationException($"The {partitions} partition streams of {nameof(HotEvent)} were not found");
    }

    static async Task<List<(string Stream, string Node, int Slot, long Entries, long Bytes)>> StreamMemory(ConnectionMultiplexer multiplexer, RedisKey[] streams)
    {
        var db = multiplexer.GetDatabase();
        var result = new List<(string, string, int, long, long)>();
        foreach (var stream in streams)
        {
            var bytes = (long)await db.ExecuteAsync("MEMORY", "USAGE", stream, "SAMPLES", "0");
            var node = multiplexer.GetServer(stream).EndPoint.ToString()!;
            result.Add((stream.ToString(), node, multiplexer.HashSlot(stream), await db.StreamLengthAsync(stream), bytes));
        }

        return result;
    }

    static async Task<Dictionary<string, long>> UsedMemory(ConnectionMultiplexer multiplexer)
    {
        var result = new Dictionary<string, long>();
        foreach (var server in multiplexer.GetServers().Where(x => !x.IsReplica))
        {
            var info = (string)(await server.ExecuteAsync("INFO", "memory"))!;
            var line = info.Split('\n').First(x => x.StartsWith("used_memory:", StringComparison.Ordinal));
            result[server.EndPoint.ToString()!] = long.Parse(line["used_memory:".Length..].Trim(), CultureInfo.InvariantCulture);
        }

        return result;
    }

    static int? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : null;
    }

    static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];


    /// <summary>Per key, the sequence numbers seen: one lower than or equal to the last one seen arrived out of order or again.</summary>
    sealed class KeyOrderCheck
    {
        readonly long[] _last;
        int _outOfOrder;
        int _repeated;

        public KeyOrderCheck(int keys)
        {
            _last = new long[keys];
        }

        public int OutOfOrder => Volatile.Read(ref _outOfOrder);
        public int Repeated => Volatile.Read(ref _repeated);
        public int Keys => _last.Count(x => x > 0);

        public void Observe(int key, long sequence)
        {
            lock (_last)
            {
                if (sequence == _last[key])
                    _repeated++;
                else if (sequence < _last[key])
                    _outOfOrder++;
                else
                    _last[key] = sequence;
            }
        }
    }

}


/// <summary>An event of a hot type: the CorrelationId is its partition key; Key and Sequence let the consumer check each key's order.</summary>
public record HotEvent(Guid CorrelationId, int Key, long Sequence);
