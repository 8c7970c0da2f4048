namespace MassTransit.RedisStreams.Benchmarks.Compare;

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;


/// <summary>What the compare suite runs, how much, and where it writes; the defaults are the full run.</summary>
public sealed class ComparisonOptions
{
    /// <summary>The workloads, in the order they run; <c>--only</c> picks from these.</summary>
    public static readonly string[] AllWorkloads = ["publish", "send", "fanout", "latency", "request", "idle", "memory", "crash", "scale", "steady", "startup"];

    /// <summary>Whether the small counts of <c>--quick</c> are in use (recorded in the results).</summary>
    public bool Quick { get; set; }

    /// <summary>The workloads to run; all when empty.</summary>
    public HashSet<string> Only { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The transports to run (<c>--transports</c>); empty for all. For profiling one transport alone.</summary>
    public HashSet<string> Transports { get; } = new(StringComparer.OrdinalIgnoreCase);

    public string OutputDirectory { get; set; } = "benchmark-results";

    /// <summary>Messages per throughput run (publish, send, fan-out).</summary>
    public int Messages { get; set; } = 20_000;

    /// <summary>Publishes (or sends, or requests) in flight at once, the same for every transport.</summary>
    public int InFlight { get; set; } = 100;

    public int[] LatencyRates { get; set; } = [100, 1_000, 5_000];
    public TimeSpan LatencyWarmup { get; set; } = TimeSpan.FromSeconds(2);
    public TimeSpan LatencyDuration { get; set; } = TimeSpan.FromSeconds(5);

    public int SequentialRequests { get; set; } = 2_000;
    public int ConcurrentRequests { get; set; } = 10_000;

    public int IdleEndpoints { get; set; } = 10;
    public TimeSpan IdleSettle { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan IdleWindow { get; set; } = TimeSpan.FromSeconds(30);

    public int MemoryEntries { get; set; } = 1_000;
    public int[] MemorySizes { get; set; } = [100, 256, 4_096];

    /// <summary>Messages the two crash-test consumer processes share; each handling takes <see cref="CrashHandlerDelay" />.</summary>
    public int CrashMessages { get; set; } = 5_000;

    public TimeSpan CrashHandlerDelay { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>The ClaimTimeout of the Redis consumer processes in the crash run; null keeps the transport's default (30 s).</summary>
    public TimeSpan? CrashClaimTimeout { get; set; }

    public int ScaleMessages { get; set; } = 20_000;

    /// <summary>Messages of the steady-state run, measured after a warm-up of a twentieth of them (at most 50,000).</summary>
    public int SteadyMessages { get; set; } = 1_000_000;

    /// <summary>A Redis to use instead of REDIS_CONNECTION or a private redis-server.</summary>
    public string? RedisConnection { get; set; }

    /// <summary>
    /// When set, the Redis is shared with others: every key of the run starts with this prefix, and resetting deletes those
    /// keys instead of FLUSHALL. Command counts then include the others' commands.
    /// </summary>
    public string? RedisKeyPrefix { get; set; }

    /// <summary>Whether to run RabbitMQ at all (RABBITMQ_HOST, a server on localhost:5672, or a private rabbitmq-server).</summary>
    public bool RabbitMq { get; set; } = true;

    /// <summary>
    /// What OpenTelemetry collects in the benchmark process while it runs: <c>off</c> (the default), <c>transport</c> (the
    /// transport's meter alone), <c>metrics</c> (MassTransit's and the transport's meters, exported every second) or <c>all</c>
    /// (metrics and every trace).
    /// </summary>
    public string Instrumentation { get; set; } = "off";

    /// <summary>Where progress goes.</summary>
    public TextWriter Log { get; set; } = Console.Out;

    public bool Runs(string workload) => Only.Count == 0 || Only.Contains(workload);

    /// <summary>Counts that finish in seconds: enough to exercise every path, not to measure.</summary>
    public ComparisonOptions UseQuickCounts()
    {
        Quick = true;
        Messages = 1_000;
        LatencyWarmup = TimeSpan.FromMilliseconds(300);
        LatencyDuration = TimeSpan.FromSeconds(1);
        SequentialRequests = 100;
        ConcurrentRequests = 500;
        IdleSettle = TimeSpan.FromSeconds(1);
        IdleWindow = TimeSpan.FromSeconds(3);
        MemoryEntries = 50;
        CrashMessages = 500;
        ScaleMessages = 1_000;
        SteadyMessages = 50_000;
        return this;
    }

    /// <summary>Parses <c>[--quick] [--only a,b] [--out DIR] [--messages N] [--in-flight N] [--idle-seconds N] [--steady-messages N] [--no-rabbitmq]</c>.</summary>
    public static ComparisonOptions Parse(string[] args)
    {
        var options = new ComparisonOptions();
        if (args.Contains("--quick"))
            options.UseQuickCounts();

        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Number() => int.Parse(Value(), CultureInfo.InvariantCulture);

            switch (args[i])
            {
                case "--quick":
                    break;
                case "--only":
                    foreach (var workload in Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (!AllWorkloads.Contains(workload, StringComparer.OrdinalIgnoreCase))
                            throw new ArgumentException($"Unknown workload '{workload}'; the workloads are {string.Join(", ", AllWorkloads)}");
                        options.Only.Add(workload);
                    }

                    break;
                case "--transports":
                    foreach (var transport in Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                        options.Transports.Add(transport);
                    break;
                case "--out":
                    options.OutputDirectory = Value();
                    break;
                case "--messages":
                    options.Messages = Number();
                    break;
                case "--in-flight":
                    options.InFlight = Number();
                    break;
                case "--idle-seconds":
                    options.IdleWindow = TimeSpan.FromSeconds(Number());
                    break;
                case "--steady-messages":
                    options.SteadyMessages = Number();
                    break;
                case "--no-rabbitmq":
                    options.RabbitMq = false;
                    break;
                case "--instrumentation":
                    options.Instrumentation = Value();
                    if (options.Instrumentation is not ("off" or "transport" or "metrics" or "all"))
                        throw new ArgumentException("--instrumentation takes off, transport, metrics or all");
                    break;
                default:
                    throw new ArgumentException($"Unknown option '{args[i]}'");
            }
        }

        return options;
    }
}
