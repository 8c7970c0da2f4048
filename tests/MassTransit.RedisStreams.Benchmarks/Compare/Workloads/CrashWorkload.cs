namespace MassTransit.RedisStreams.Benchmarks.Compare.Workloads;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Results;
using Transports;


/// <summary>
/// Two consumer processes share a queue; when a third of the messages have been handled, one is killed with kill -9. Recovery
/// is the time from the kill until the survivor has handled the last message it got redelivered (the killed one's
/// unacknowledged messages); drain is the time until every message has been handled.
/// </summary>
public sealed class CrashWorkload :
    Workload
{
    public override string Id => "crash";
    public override string Title => "Crash recovery: one of two consumer processes killed (kill -9)";

    public override string Settings(ComparisonOptions options) =>
        $"{options.CrashMessages:N0} messages sent with {options.InFlight} in flight; handler takes {options.CrashHandlerDelay.TotalMilliseconds:0} ms; "
        + $"kill at a third handled. Redis: the survivor claims the killed one's entries when its 3 s name lease runs out"
        + $"{(options.CrashClaimTimeout is { } claim ? $" (ClaimTimeout {claim.TotalSeconds:0.#} s, set for this run)" : " (ClaimTimeout at its 30 s default)")}; "
        + "RabbitMQ requeues when the connection drops.";

    public override IReadOnlyList<Metric> Metrics(ComparisonOptions options) =>
    [
        new("recovery", "kill → last of the killed one's messages handled", "s", false),
        new("drain", "kill → all handled", "s", false),
        new("redelivered", "messages redelivered to the survivor", "count", false)
    ];

    public override string? NotApplicable(string transport) => transport switch
    {
        TransportNames.InMemory => "in-process: no second process can share the queue",
        TransportNames.RawRedis => "not built for the raw loop",
        _ => null
    };

    public override async Task<Outcome> Run(string transport, BenchEnvironment environment, RunScope scope)
    {
        var options = environment.Options;
        var busTransport = environment.BusTransports[transport];
        var queue = scope.Endpoint("work");
        scope.Uses<WorkItem>();

        var arguments = busTransport.WorkerArguments()
            .Concat(["--queue", queue, "--report", "each", "--handler-ms", ((int)options.CrashHandlerDelay.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture)])
            .Concat(transport == TransportNames.RedisStreams ? RedisStreamsTransport.ClaimTimeoutArgument(options.CrashClaimTimeout) : [])
            .ToList();

        var total = options.CrashMessages;
        var seen = new int[total];
        var distinct = 0;
        var stopwatch = Stopwatch.StartNew();
        var killAt = TimeSpan.Zero;
        WorkerProcess? victim = null;
        var lastRedelivered = TimeSpan.Zero;
        var redelivered = 0;
        var lastNew = TimeSpan.Zero;
        var third = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new object();

        void Handled(WorkerProcess worker, int sequence, bool isRedelivered)
        {
            lock (gate)
            {
                var now = stopwatch.Elapsed;
                if (isRedelivered && worker != victim && killAt > TimeSpan.Zero)
                {
                    redelivered++;
                    lastRedelivered = now;
                }

                if (seen[sequence]++ == 0)
                {
                    lastNew = now;
                    if (++distinct == total / 3)
                        third.TrySetResult();
                    if (distinct == total)
                        all.TrySetResult();
                }
            }
        }

        using var first = await WorkerProcess.Start(arguments, Handled);
        using var second = await WorkerProcess.Start(arguments, Handled);
        victim = first;

        await using var bus = await BenchBus.Start(busTransport, scope, []);
        var endpoint = await bus.Bus.GetSendEndpoint(new Uri("queue:" + queue));
        var sending = Load.InFlight(total, options.InFlight, i => endpoint.Send(new WorkItem(Guid.NewGuid(), i, Payloads.Text)));

        await third.Task.WaitAsync(environment.Timeout);
        // Not under the lock: the kill waits for the victim's last output, which Handled takes the lock to read.
        lock (gate)
            killAt = stopwatch.Elapsed;
        first.Kill();

        await sending;
        await all.Task.WaitAsync(environment.Timeout);

        lock (gate)
        {
            return new Outcome
            {
                Values =
                {
                    // A message handled while the kill was under way can be stamped a moment before it: zero, not below.
                    ["recovery"] = redelivered == 0 ? 0 : Math.Max(0, (lastRedelivered - killAt).TotalSeconds),
                    ["drain"] = Math.Max(0, (lastNew - killAt).TotalSeconds),
                    ["redelivered"] = redelivered
                },
                Details = { ["handled twice"] = seen.Count(x => x > 1) }
            };
        }
    }
}
