namespace MassTransit.RedisStreams.Benchmarks.Compare.Workloads;

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using MassTransit.RedisStreams.Diagnostics;
using Results;


/// <summary>
/// Sends to one endpoint at a steady rate and measures, for each message, the time from the send call (a Stopwatch
/// timestamp in the message) to the start of its handler; the messages of the warm-up are left out.
/// </summary>
public sealed class LatencyWorkload :
    Workload
{
    static readonly string[] Percentiles = ["p50", "p95", "p99", "max"];

    public override string Id => "latency";
    public override string Title => "Send→handler latency at a steady rate";

    public override string Settings(ComparisonOptions options) =>
        $"{string.Join(" / ", options.LatencyRates.Select(x => x.ToString("N0", CultureInfo.InvariantCulture)))} msg/s, each for "
        + $"{options.LatencyWarmup.TotalSeconds:0.#} s of warm-up (not counted) and {options.LatencyDuration.TotalSeconds:0.#} s measured; "
        + "sends are started on schedule, not one after another's completion.";

    public override IReadOnlyList<Metric> Metrics(ComparisonOptions options) =>
        options.LatencyRates.SelectMany(rate => Percentiles
                .Select(p => new Metric($"{p}@{rate}", $"{p} at {rate:N0} msg/s", "ms", false)))
            .ToList();

    public override async Task<Outcome> Run(string transport, BenchEnvironment environment, RunScope scope)
    {
        var options = environment.Options;
        var outcome = new Outcome();

        if (transport == TransportNames.RawRedis)
        {
            var body = Payloads.Json(new BenchEvent(Guid.NewGuid(), 10_000, Payloads.Text));
            foreach (var rate in options.LatencyRates)
            {
                var (warmup, measured) = Counts(options, rate);
                var latencies = await environment.Raw.Latency(warmup + measured, rate, body, environment.Timeout);
                Add(outcome, rate, latencies.Skip(warmup));
            }

            return outcome;
        }

        scope.Uses<LatencyProbe>();
        var recorder = new LatencyRecorder();
        await using var bus = await BenchBus.Start(environment.BusTransports[transport], scope, [typeof(LatencyConsumer)], [recorder]);
        var queue = await bus.Queue(scope, typeof(LatencyConsumer));

        foreach (var rate in options.LatencyRates)
        {
            var (warmup, measured) = Counts(options, rate);
            recorder.Expect(warmup + measured);
            await Load.Paced(warmup + measured, rate,
                i =>
                {
                    var sent = System.Diagnostics.Stopwatch.GetTimestamp();
                    LatencyTrace.Mark(LatencyStage.SendCalled, sent);
                    var sending = queue.Send(new LatencyProbe(Guid.NewGuid(), i, sent, Payloads.Text));
                    LatencyTrace.Mark(LatencyStage.SendReturned);
                    return sending;
                });
            await recorder.Completed.WaitAsync(environment.Timeout);
            Add(outcome, rate, recorder.Samples.Skip(warmup));
        }

        return outcome;
    }

    static (int Warmup, int Measured) Counts(ComparisonOptions options, int rate) =>
        ((int)(rate * options.LatencyWarmup.TotalSeconds), Math.Max(1, (int)(rate * options.LatencyDuration.TotalSeconds)));

    static void Add(Outcome outcome, int rate, IEnumerable<double> latencies)
    {
        foreach (var (key, value) in Load.Summary(latencies, "@" + rate))
            outcome.Values[key] = value;
    }
}
