namespace MassTransit.RedisStreams.Benchmarks.Compare;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Brokers;
using Results;
using Workloads;


/// <summary>
/// Runs the workloads on every transport, each run from an empty broker, and writes results.md and results.json to the
/// output directory.
/// </summary>
public static class CompareRunner
{
    public static IReadOnlyList<Workload> Workloads { get; } =
    [
        new PublishWorkload(), new SendWorkload(), new FanOutWorkload(), new LatencyWorkload(), new RequestWorkload(),
        new IdleWorkload(), new MemoryWorkload(), new CrashWorkload(), new ScaleWorkload(),
        new SteadyWorkload(), new StartupWorkload()
    ];

    public static async Task<ResultSet> Run(ComparisonOptions options)
    {
        var log = options.Log;
        var machine = new MachineInfo();
        var results = new ResultSet { Machine = machine, Options = options };

        await using var redis = await RedisBroker.Start(options);
        machine.RedisServer = redis.Version;
        log.WriteLine($"redis-server {redis.Version} at {redis.Connection}");

        RabbitBroker? rabbit = null;
        var rabbitMissing = "skipped";
        if (options.RabbitMq)
        {
            (rabbit, var reason) = await RabbitBroker.Find(log);
            rabbitMissing = reason ?? rabbitMissing;
            machine.RabbitMq = rabbit?.Version;
            log.WriteLine(rabbit != null ? $"RabbitMQ {rabbit.Version} at {rabbit.Address}" : $"RabbitMQ not available: {reason}");
        }

        try
        {
            var environment = new BenchEnvironment(options, redis, rabbit, DefaultPrefetch(redis.Connection));
            foreach (var workload in Workloads.Where(x => options.Runs(x.Id)))
            {
                var result = new WorkloadResult
                {
                    Id = workload.Id,
                    Title = workload.Title,
                    Settings = workload.Settings(options),
                    Metrics = workload.Metrics(options)
                };

                foreach (var transport in TransportNames.All.Where(x => options.Transports.Count == 0 || options.Transports.Contains(x)))
                {
                    result.Outcomes[transport] = await RunOne(workload, transport, environment, rabbit == null ? rabbitMissing : null);
                    log.WriteLine($"{workload.Id,-8} {transport,-14} {Describe(result.Outcomes[transport])}");
                }

                results.Workloads.Add(result);
            }
        }
        finally
        {
            if (rabbit != null)
                await rabbit.DisposeAsync();
        }

        Directory.CreateDirectory(options.OutputDirectory);
        await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "results.md"), MarkdownReport.Write(results));
        await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "results.json"), JsonReport.Write(results));
        return results;
    }

    static async Task<Outcome> RunOne(Workload workload, string transport, BenchEnvironment environment, string? rabbitMissing)
    {
        if (workload.NotApplicable(transport) is { } reason)
            return Outcome.Missing(Outcome.NotApplicable, reason);
        if (transport == TransportNames.RabbitMq && rabbitMissing != null)
            return Outcome.Missing(Outcome.NotAvailable, rabbitMissing);

        // Every run starts from the same state: an empty Redis, no queues or exchanges left from an earlier run.
        await environment.Redis.Reset();
        GC.Collect();
        GC.WaitForPendingFinalizers();

        var scope = new RunScope();
        try
        {
            var stopwatch = Stopwatch.StartNew();
            var outcome = await workload.Run(transport, environment, scope);
            foreach (var key in outcome.Values.Where(x => !double.IsFinite(x.Value)).Select(x => x.Key).ToList())
                outcome.Values.Remove(key);
            outcome.Details["run seconds"] = stopwatch.Elapsed.TotalSeconds;
            return outcome;
        }
        catch (Exception exception)
        {
            environment.Options.Log.WriteLine($"{workload.Id} on {transport} failed: {exception}");
            return Outcome.Missing(Outcome.Failed, exception.GetType().Name + ": " + exception.Message);
        }
        finally
        {
            if (environment.BusTransports.TryGetValue(transport, out var busTransport))
            {
                try
                {
                    await busTransport.Cleanup(scope);
                }
                catch (Exception exception)
                {
                    environment.Options.Log.WriteLine($"cleanup after {workload.Id} on {transport} failed: {exception.Message}");
                }
            }
        }
    }

    /// <summary>The PrefetchCount an endpoint of this transport gets when none is set, read from a bus that is built, not started.</summary>
    static int DefaultPrefetch(string connection)
    {
        var prefetch = 0;
        Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(connection, _ => { });
            cfg.ReceiveEndpoint("prefetch-probe", e => prefetch = e.PrefetchCount);
        });
        return prefetch;
    }

    static string Describe(Outcome outcome) => outcome.Status != Outcome.Ok
        ? outcome.Status + (outcome.Reason is null ? "" : ": " + outcome.Reason)
        : string.Join(", ", outcome.Values.Select(x => $"{x.Key} {MarkdownReport.Format(x.Value)}"));
}
