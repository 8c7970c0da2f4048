namespace MassTransit.RedisStreams.Benchmarks.Compare.Workloads;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Brokers;
using Results;
using StackExchange.Redis;


/// <summary>
/// A long run at a steady load: <see cref="ComparisonOptions.SteadyMessages" /> messages published to one endpoint in the
/// same process, <see cref="ComparisonOptions.InFlight" /> in flight, after a warm-up. After each tenth the run waits until
/// the endpoint has handled everything so far, collects garbage fully and samples the heap and the working set. What the
/// process allocates per message and the collections it goes through are counted over the put-through parts only, so the
/// samples' own collections are left out; publisher and consumer are the same process, so both are in the numbers.
/// The workload trims nothing: Redis keeps the events (default retention), so its memory grows with the log by design.
/// </summary>
public sealed class SteadyWorkload :
    Workload
{
    const int Points = 10;
    const double Megabyte = 1024 * 1024;

    static readonly Metric EndToEnd = new("endToEnd", "end to end, sample pauses left out", "msg/s", true);
    static readonly Metric Allocated = new("allocatedPerMessage", "allocated per message, publisher and consumer together (one process)", "bytes", false);
    static readonly Metric HeapFirst = new("heapFirst", "heap after full GC at 10%", "MB", false);
    static readonly Metric HeapLast = new("heapLast", "heap after full GC at 100%", "MB", false);
    static readonly Metric HeapGrowth = new("heapGrowth", "heap growth, 20% → 100%", "MB", false, Ratios: false);
    static readonly Metric HeapGrowthPercent = new("heapGrowthPercent", "heap growth, 20% → 100%", "%", false, Ratios: false);
    static readonly Metric WorkingSetFirst = new("workingSetFirst", "working set at 10%", "MB", false);
    static readonly Metric WorkingSetLast = new("workingSetLast", "working set at 100%", "MB", false);
    static readonly Metric WorkingSetGrowth = new("workingSetGrowth", "working set growth, 20% → 100%", "MB", false, Ratios: false);
    static readonly Metric WorkingSetGrowthPercent = new("workingSetGrowthPercent", "working set growth, 20% → 100%", "%", false, Ratios: false);
    static readonly Metric Gen0 = new("gen0", "gen0 collections", "count", false);
    static readonly Metric Gen1 = new("gen1", "gen1 collections", "count", false);
    static readonly Metric Gen2 = new("gen2", "gen2 collections", "count", false);
    static readonly Metric RedisStart = new("redisUsedMemoryStart", "Redis used_memory before the measured part", "MB", false);
    static readonly Metric RedisEnd = new("redisUsedMemoryEnd", "Redis used_memory at the end (the log, kept by design)", "MB", false);

    public override string Id => "steady";
    public override string Title => "Steady state: process memory and allocations over a long run";

    public override string Settings(ComparisonOptions options) =>
        $"{options.SteadyMessages:N0} messages of ~100 bytes JSON published to one endpoint in the same process, {options.InFlight} in "
        + $"flight, default settings, after a warm-up of {Warmup(options):N0}. After each 10% the run waits for the endpoint to catch "
        + "up, then GC.Collect, WaitForPendingFinalizers, GC.Collect and a sample: heap = GC.GetTotalMemory(false), working set = "
        + "Environment.WorkingSet. Allocations (GC.GetTotalAllocatedBytes(true)) and collection counts are the whole process's, "
        + "publisher and consumer together, over the put-through parts only (the samples' collections left out). Growth is from the "
        + "20% sample to the 100% one. Nothing is trimmed: Redis keeps the events (default retention), so its used_memory grows with "
        + "the log by design; it is the whole server's. Every sample is in results.json.";

    public override IReadOnlyList<Metric> Metrics(ComparisonOptions options) =>
    [
        EndToEnd, Allocated, HeapFirst, HeapLast, HeapGrowth, HeapGrowthPercent, WorkingSetFirst, WorkingSetLast, WorkingSetGrowth,
        WorkingSetGrowthPercent, Gen0, Gen1, Gen2, RedisStart, RedisEnd
    ];

    public override string? NotApplicable(string transport) =>
        transport == TransportNames.RawRedis ? "measures a MassTransit bus's process" : null;

    static int Warmup(ComparisonOptions options) => Math.Clamp(options.SteadyMessages / 20, 200, 50_000);

    public override async Task<Outcome> Run(string transport, BenchEnvironment environment, RunScope scope)
    {
        var options = environment.Options;
        var redis = transport == TransportNames.RedisStreams ? environment.Redis : null;

        scope.Uses<BenchEvent>();
        var deliveries = new Deliveries();
        await using var bus = await BenchBus.Start(environment.BusTransports[transport], scope, [typeof(EventConsumer)], [deliveries]);

        var warmup = Warmup(options);
        await PutThrough(bus, deliveries, 0, warmup, options.InFlight, environment.Timeout);

        var baseline = Collect();
        double? redisStart = redis == null ? null : await redis.UsedMemory() / Megabyte;

        var samples = new List<Sample>(Points);
        var putting = new Stopwatch();
        var pauses = Stopwatch.StartNew();
        pauses.Stop();
        long allocated = 0;
        int gen0 = 0, gen1 = 0, gen2 = 0;
        var done = 0;
        for (var point = 1; point <= Points; point++)
        {
            var next = (int)((long)options.SteadyMessages * point / Points);

            var allocatedBefore = GC.GetTotalAllocatedBytes(true);
            var (before0, before1, before2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
            putting.Start();
            await PutThrough(bus, deliveries, warmup + done, next - done, options.InFlight, environment.Timeout);
            putting.Stop();
            gen0 += GC.CollectionCount(0) - before0;
            gen1 += GC.CollectionCount(1) - before1;
            gen2 += GC.CollectionCount(2) - before2;
            allocated += GC.GetTotalAllocatedBytes(true) - allocatedBefore;
            done = next;

            pauses.Start();
            var (heap, heapSize, workingSet) = Collect();
            double? redisUsed = redis == null ? null : await redis.UsedMemory() / Megabyte;
            pauses.Stop();

            samples.Add(new Sample(point * 100 / Points, done, putting.Elapsed.TotalSeconds, heap, heapSize, workingSet,
                allocated / Megabyte, gen0, gen1, gen2, redisUsed));
            options.Log.WriteLine(
                $"steady   {transport,-14} {point * 100 / Points,3}%: heap {heap:0.0} MB, working set {workingSet:0.0} MB, "
                + $"{allocated / (double)done:0} bytes/msg, {done / putting.Elapsed.TotalSeconds:0} msg/s"
                + (redisUsed is { } used ? $", Redis {used:0} MB" : ""));
        }

        var (second, last) = (samples[1], samples[^1]);
        var outcome = new Outcome
        {
            Values =
            {
                [EndToEnd.Key] = options.SteadyMessages / putting.Elapsed.TotalSeconds,
                [Allocated.Key] = allocated / (double)options.SteadyMessages,
                [HeapFirst.Key] = samples[0].HeapMb,
                [HeapLast.Key] = last.HeapMb,
                [HeapGrowth.Key] = last.HeapMb - second.HeapMb,
                [HeapGrowthPercent.Key] = (last.HeapMb - second.HeapMb) / second.HeapMb * 100,
                [WorkingSetFirst.Key] = samples[0].WorkingSetMb,
                [WorkingSetLast.Key] = last.WorkingSetMb,
                [WorkingSetGrowth.Key] = last.WorkingSetMb - second.WorkingSetMb,
                [WorkingSetGrowthPercent.Key] = (last.WorkingSetMb - second.WorkingSetMb) / second.WorkingSetMb * 100,
                [Gen0.Key] = gen0,
                [Gen1.Key] = gen1,
                [Gen2.Key] = gen2
            },
            Details =
            {
                ["heap MB after warm-up"] = baseline.Heap,
                ["largest heap MB of the samples"] = samples.Max(x => x.HeapMb),
                ["GC heap size MB at 10%"] = samples[0].HeapSizeMb,
                ["GC heap size MB at 100%"] = last.HeapSizeMb,
                ["sample pauses s"] = pauses.Elapsed.TotalSeconds
            },
            Samples = samples
        };

        if (redisStart is { } start && last.RedisUsedMemoryMb is { } end)
        {
            outcome.Values[RedisStart.Key] = start;
            outcome.Values[RedisEnd.Key] = end;
            outcome.Details["Redis used_memory bytes per message"] = (end - start) * Megabyte / options.SteadyMessages;
            outcome.Details["Redis stream entries at the end"] = await StreamEntries(environment.Redis);
        }

        return outcome;
    }

    /// <summary>Publishes <paramref name="count" /> messages and waits until the endpoint has handled them all.</summary>
    static async Task PutThrough(BenchBus bus, Deliveries deliveries, int first, int count, int inFlight, TimeSpan timeout)
    {
        deliveries.Expect(count);
        await Load.InFlightUnkept(count, inFlight, i => bus.Bus.Publish(new BenchEvent(Guid.NewGuid(), first + i, Payloads.Text)));
        await deliveries.Completed.WaitAsync(timeout);
    }

    /// <summary>The entries of every stream of the run: the events are all still there, as the default retention keeps them.</summary>
    static async Task<long> StreamEntries(RedisBroker redis)
    {
        var database = redis.Admin.GetDatabase();
        long entries = 0;
        await foreach (var key in redis.Admin.GetServers()[0].KeysAsync(pattern: (redis.KeyPrefix ?? "") + "*"))
        {
            if (await database.KeyTypeAsync(key) == RedisType.Stream)
                entries += await database.StreamLengthAsync(key);
        }

        return entries;
    }

    /// <summary>A full collection, then the heap, the GC's heap size and the working set, in MB.</summary>
    static (double Heap, double HeapSize, double WorkingSet) Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return (GC.GetTotalMemory(false) / Megabyte, GC.GetGCMemoryInfo().HeapSizeBytes / Megabyte, Environment.WorkingSet / Megabyte);
    }
}
