namespace MassTransit.RedisStreams.Benchmarks.Compare.Workloads;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Results;


/// <summary>
/// One consumer process, then two, on a queue: messages sent with <see cref="ComparisonOptions.InFlight" /> in flight, and the
/// rate from the first send until the processes have handled them all.
/// </summary>
public sealed class ScaleWorkload :
    Workload
{
    public override string Id => "scale";
    public override string Title => "Two consumer processes vs one";

    public override string Settings(ComparisonOptions options) =>
        $"{options.ScaleMessages:N0} messages sent with {options.InFlight} in flight to a queue that 1, then 2, consumer processes "
        + "consume (handler does nothing); all processes on this machine.";

    public override IReadOnlyList<Metric> Metrics(ComparisonOptions options) =>
    [
        new("one", "one consumer process", "msg/s", true),
        new("two", "two consumer processes", "msg/s", true),
        new("speedup", "two ÷ one", "×", true)
    ];

    public override string? NotApplicable(string transport) => transport switch
    {
        TransportNames.InMemory => "in-process: no second process can share the queue",
        TransportNames.RawRedis => "not built for the raw loop",
        _ => null
    };

    public override async Task<Outcome> Run(string transport, BenchEnvironment environment, RunScope scope)
    {
        var one = await Measure(environment, scope, transport, 1);
        var two = await Measure(environment, scope, transport, 2);
        return new Outcome { Values = { ["one"] = one, ["two"] = two, ["speedup"] = two / one } };
    }

    static async Task<double> Measure(BenchEnvironment environment, RunScope scope, string transport, int processes)
    {
        var options = environment.Options;
        var busTransport = environment.BusTransports[transport];
        var queue = scope.Endpoint("scale-" + processes.ToString(CultureInfo.InvariantCulture));
        scope.Uses<WorkItem>();
        var arguments = busTransport.WorkerArguments().Concat(["--queue", queue, "--report", "count"]).ToList();

        var workers = new List<WorkerProcess>();
        try
        {
            for (var i = 0; i < processes; i++)
                workers.Add(await WorkerProcess.Start(arguments));

            await using var bus = await BenchBus.Start(busTransport, scope, []);
            var endpoint = await bus.Bus.GetSendEndpoint(new Uri("queue:" + queue));

            var stopwatch = Stopwatch.StartNew();
            await Load.InFlight(options.ScaleMessages, options.InFlight, i => endpoint.Send(new WorkItem(Guid.NewGuid(), i, Payloads.Text)));

            // The workers write their counts every 20 ms; poll them at the same pace.
            while (workers.Sum(x => x.Count) < options.ScaleMessages)
            {
                if (stopwatch.Elapsed > environment.Timeout)
                    throw new TimeoutException($"{workers.Sum(x => x.Count)} of {options.ScaleMessages} handled within {environment.Timeout}");
                await Task.Delay(5);
            }

            return options.ScaleMessages / stopwatch.Elapsed.TotalSeconds;
        }
        finally
        {
            foreach (var worker in workers)
                worker.Dispose();
        }
    }
}
