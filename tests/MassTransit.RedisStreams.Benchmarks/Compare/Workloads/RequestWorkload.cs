namespace MassTransit.RedisStreams.Benchmarks.Compare.Workloads;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading.Tasks;
using Results;


/// <summary>
/// Request/response with MassTransit's request client to an endpoint that responds: one at a time (round trips per second
/// and their latency), then <see cref="ComparisonOptions.InFlight" /> at once.
/// </summary>
public sealed class RequestWorkload :
    Workload
{
    public override string Id => "request";
    public override string Title => "Request/response round trips";

    public override string Settings(ComparisonOptions options) =>
        $"{options.SequentialRequests:N0} sequential requests after 20 of warm-up, then {options.ConcurrentRequests:N0} with "
        + $"{options.InFlight} in flight; the response goes to the bus endpoint.";

    public override IReadOnlyList<Metric> Metrics(ComparisonOptions options) =>
    [
        new("sequential", "sequential round trips", "req/s", true),
        new("p50", "sequential round trip p50", "ms", false),
        new("p99", "sequential round trip p99", "ms", false),
        new("concurrent", $"concurrent ({options.InFlight} in flight)", "req/s", true)
    ];

    public override string? NotApplicable(string transport) =>
        transport == TransportNames.RawRedis ? "the raw loop has no request/response" : null;

    public override async Task<Outcome> Run(string transport, BenchEnvironment environment, RunScope scope)
    {
        var options = environment.Options;
        scope.Uses<BenchRequest>();
        scope.Uses<BenchReply>();
        await using var bus = await BenchBus.Start(environment.BusTransports[transport], scope, [typeof(EchoConsumer)]);
        var address = new Uri("queue:" + scope.RunId + "-echo");
        var client = bus.Bus.CreateRequestClient<BenchRequest>(address, RequestTimeout.After(s: 60));

        for (var i = 0; i < 20; i++)
            await client.GetResponse<BenchReply>(new BenchRequest(Guid.NewGuid(), i, Payloads.Text));

        var roundTrips = new List<double>(options.SequentialRequests);
        var total = Stopwatch.StartNew();
        for (var i = 0; i < options.SequentialRequests; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await client.GetResponse<BenchReply>(new BenchRequest(Guid.NewGuid(), i, Payloads.Text));
            roundTrips.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        var sequential = options.SequentialRequests / total.Elapsed.TotalSeconds;

        total.Restart();
        await Load.InFlight(options.ConcurrentRequests, options.InFlight,
            i => client.GetResponse<BenchReply>(new BenchRequest(Guid.NewGuid(), i, Payloads.Text)));
        var concurrent = options.ConcurrentRequests / total.Elapsed.TotalSeconds;

        roundTrips.Sort();
        return new Outcome
        {
            Values =
            {
                ["sequential"] = sequential,
                ["p50"] = Load.Percentile(roundTrips, 0.50),
                ["p99"] = Load.Percentile(roundTrips, 0.99),
                ["concurrent"] = concurrent
            }
        };
    }
}
