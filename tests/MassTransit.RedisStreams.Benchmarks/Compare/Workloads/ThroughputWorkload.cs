namespace MassTransit.RedisStreams.Benchmarks.Compare.Workloads;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime;
using System.Threading.Tasks;
using Results;


/// <summary>
/// Puts <see cref="ComparisonOptions.Messages" /> messages through with <see cref="ComparisonOptions.InFlight" /> in flight and
/// measures the publish (or send) rate and the end-to-end rate: messages divided by the time from the first publish until
/// every endpoint has handled every message. A warm-up of a quarter as many (at most 5,000) goes first, so that the topology
/// exists and the code is compiled.
/// </summary>
public abstract class ThroughputWorkload :
    Workload
{
    static readonly Metric EndToEnd = new("endToEnd", "end to end", "msg/s", true);
    static readonly Metric Rate = new("publishRate", "publish/send calls completed", "msg/s", true);

    /// <summary>How many endpoints receive each message.</summary>
    protected abstract int Endpoints { get; }

    protected abstract Type[] Consumers { get; }

    public override IReadOnlyList<Metric> Metrics(ComparisonOptions options) => [EndToEnd, Rate];

    public override string Settings(ComparisonOptions options) =>
        $"{options.Messages:N0} messages of ~100 bytes JSON, {options.InFlight} in flight, default endpoint settings.";

    /// <summary>Publishes or sends message <paramref name="sequence" />.</summary>
    protected abstract Task Put(BenchBus bus, RunScope scope, int sequence);

    /// <summary>
    /// Waits (at most 5 s) until the JIT has compiled nothing for 300 ms: the warm-up has made MassTransit's and the transport's
    /// hot methods hot, and tiered compilation recompiles them in the background for a while after. Without the wait, that
    /// compiling lands in the measured part of whichever transport runs first.
    /// </summary>
    static async Task JitSettled()
    {
        var deadline = Stopwatch.StartNew();
        var count = JitInfo.GetCompiledMethodCount();
        var quiet = 0;
        while (quiet < 3 && deadline.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(100);
            var now = JitInfo.GetCompiledMethodCount();
            quiet = now == count ? quiet + 1 : 0;
            count = now;
        }
    }

    public override async Task<Outcome> Run(string transport, BenchEnvironment environment, RunScope scope)
    {
        var options = environment.Options;
        if (transport == TransportNames.RawRedis)
        {
            var body = Payloads.Json(new BenchEvent(Guid.NewGuid(), 10_000, Payloads.Text));
            var (adds, endToEnd) = await environment.Raw.Throughput(options.Messages, options.InFlight, Endpoints, body, environment.Timeout);
            return new Outcome { Values = { [EndToEnd.Key] = endToEnd, [Rate.Key] = adds } };
        }

        scope.Uses<BenchEvent>();
        scope.Uses<BenchCommand>();
        var deliveries = new Deliveries();
        await using var bus = await BenchBus.Start(environment.BusTransports[transport], scope, Consumers, [deliveries]);

        // The warm-up also lets the JIT finish with the hot paths (MassTransit's and the transport's), so that the transport
        // that happens to run first in the process is not measured half compiled.
        // Each round until the JIT is quiet, and rounds until one compiles next to nothing (at most five): tiered compilation
        // counts calls only once the compiling before has calmed down, and takes a method through up to three tiers, so the
        // methods one round made hot are recompiled during the next.
        var warmup = Math.Clamp(options.Messages / 4, 10, 5_000);
        for (var round = 0; round < 5; round++)
        {
            var compiling = JitInfo.GetCompilationTime();
            deliveries.Expect(warmup * Endpoints);
            await Load.InFlight(warmup, options.InFlight, i => Put(bus, scope, i));
            await deliveries.Completed.WaitAsync(environment.Timeout);
            await JitSettled();
            if (JitInfo.GetCompilationTime() - compiling < TimeSpan.FromMilliseconds(20))
                break;
        }

        deliveries.Expect(options.Messages * Endpoints);
        var cost = await CostReading.Start(transport == TransportNames.RedisStreams ? environment.Redis : null);
        var stopwatch = Stopwatch.StartNew();
        await Load.InFlight(options.Messages, options.InFlight, i => Put(bus, scope, i));
        var published = stopwatch.Elapsed;
        await deliveries.Completed.WaitAsync(environment.Timeout);
        var consumed = stopwatch.Elapsed;

        var outcome = new Outcome
        {
            Values = { [EndToEnd.Key] = options.Messages / consumed.TotalSeconds, [Rate.Key] = options.Messages / published.TotalSeconds }
        };
        await cost.Finish(outcome, options.Messages);
        return outcome;
    }
}


/// <summary>
/// What a measured part cost per message: the benchmark process's CPU (publisher and consumer together) and, on Redis, the
/// server's CPU and each command's calls and time (INFO cpu and commandstats, read before and after).
/// </summary>
sealed class CostReading
{
    readonly Brokers.RedisBroker? _redis;
    TimeSpan _processCpu;
    TimeSpan _jitTime;
    long _jitMethods;
    double _serverCpu;
    Dictionary<string, (long Calls, long Usec)>? _commands;

    CostReading(Brokers.RedisBroker? redis)
    {
        _redis = redis;
    }

    /// <summary>Reads Redis first, then the process, so that the readings' own work (and its compiling) is not counted.</summary>
    public static async Task<CostReading> Start(Brokers.RedisBroker? redis)
    {
        var reading = new CostReading(redis);
        if (redis != null)
        {
            reading._serverCpu = await redis.ServerCpuSeconds();
            reading._commands = await redis.CommandStats();
        }

        reading._processCpu = Process.GetCurrentProcess().TotalProcessorTime;
        reading._jitTime = JitInfo.GetCompilationTime();
        reading._jitMethods = JitInfo.GetCompiledMethodCount();
        return reading;
    }

    public async Task Finish(Outcome outcome, int messages)
    {
        var processCpu = Process.GetCurrentProcess().TotalProcessorTime - _processCpu;
        outcome.Details["client CPU us/msg"] = processCpu.TotalMicroseconds / messages;
        outcome.Details["JIT ms during the run"] = (JitInfo.GetCompilationTime() - _jitTime).TotalMilliseconds;
        outcome.Details["methods compiled during the run"] = JitInfo.GetCompiledMethodCount() - _jitMethods;
        if (_redis == null || _commands == null)
            return;

        outcome.Details["Redis CPU us/msg"] = (await _redis.ServerCpuSeconds() - _serverCpu) * 1e6 / messages;
        foreach (var (command, (calls, usec)) in await _redis.CommandStats())
        {
            _commands.TryGetValue(command, out var before);
            var count = calls - before.Calls;
            if (count <= 0 || command is "info" or "ping")
                continue;

            outcome.Details[$"{command} calls/msg"] = (double)count / messages;
            outcome.Details[$"{command} us/call"] = (double)(usec - before.Usec) / count;
            outcome.Details[$"{command} us/msg"] = (double)(usec - before.Usec) / messages;
        }
    }
}


/// <summary>Publish to one endpoint that consumes the event type.</summary>
public sealed class PublishWorkload :
    ThroughputWorkload
{
    public override string Id => "publish";
    public override string Title => "Publish to one endpoint";
    protected override int Endpoints => 1;
    protected override Type[] Consumers => [typeof(EventConsumer)];

    protected override Task Put(BenchBus bus, RunScope scope, int sequence) =>
        bus.Bus.Publish(new BenchEvent(Guid.NewGuid(), sequence, Payloads.Text));
}


/// <summary>Send to one endpoint's queue.</summary>
public sealed class SendWorkload :
    ThroughputWorkload
{
    ISendEndpoint? _queue;

    public override string Id => "send";
    public override string Title => "Send to one endpoint";
    protected override int Endpoints => 1;
    protected override Type[] Consumers => [typeof(CommandConsumer)];

    protected override async Task Put(BenchBus bus, RunScope scope, int sequence)
    {
        var queue = _queue ??= await bus.Queue(scope, typeof(CommandConsumer));
        await queue.Send(new BenchCommand(Guid.NewGuid(), sequence, Payloads.Text));
    }

    public override async Task<Outcome> Run(string transport, BenchEnvironment environment, RunScope scope)
    {
        _queue = null;
        return await base.Run(transport, environment, scope);
    }
}


/// <summary>Publish to three endpoints that each consume the event type, so each receives every message.</summary>
public sealed class FanOutWorkload :
    ThroughputWorkload
{
    public override string Id => "fanout";
    public override string Title => "Publish, fan-out to three endpoints (each receives all)";
    protected override int Endpoints => 3;
    protected override Type[] Consumers => [typeof(FanOutAConsumer), typeof(FanOutBConsumer), typeof(FanOutCConsumer)];

    protected override Task Put(BenchBus bus, RunScope scope, int sequence) =>
        bus.Bus.Publish(new BenchEvent(Guid.NewGuid(), sequence, Payloads.Text));
}
