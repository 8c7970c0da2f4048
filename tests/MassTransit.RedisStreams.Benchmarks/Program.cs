namespace MassTransit.RedisStreams.Benchmarks;

using System;
using System.Linq;
using System.Threading.Tasks;
using Compare;


/// <summary>
/// <c>compare</c> runs the same workloads on this transport, the in-memory transport, RabbitMQ and a raw Redis loop;
/// <c>worker</c> is the consumer process the compare suite starts and kills; <c>cluster</c> compares one Redis with a Redis
/// Cluster of three primaries (see <see cref="ClusterBenchmark" />); the other modes are the Redis-only benchmarks
/// (see <see cref="LegacyBenchmarks" />).
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var mode = args.Length > 0 ? args[0] : "all";

        if (mode == "compare")
            return await CompareCommand.Run(args[1..]);

        if (mode == StartupProbe.Mode)
            return await StartupProbe.Run(args[1..]);

        if (mode == Worker.Mode)
            return await Worker.Run(args[1..]);

        if (mode == ArchiveBenchmark.Mode)
            return await ArchiveBenchmark.Run(args[1..]);

        if (mode == ClusterBenchmark.Mode)
            return await ClusterBenchmark.Run(args[1..]);

        if (mode == PartitionBenchmark.Mode)
            return await PartitionBenchmark.Run(args[1..]);

        if (LegacyBenchmarks.Scenarios.Contains(mode))
            return await LegacyBenchmarks.Run(mode);

        Console.Error.WriteLine($"Unknown mode '{mode}'. Use compare [--quick] [--only workload,...] [--out DIR], cluster [--quick], archive [--events N], partitions [--events N] [--replay-events N] [--quick], or one of: "
            + string.Join(", ", LegacyBenchmarks.Scenarios));
        return 2;
    }
}
