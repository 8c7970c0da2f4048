namespace MassTransit.RedisStreams.Benchmarks.Compare.Workloads;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Results;


/// <summary>
/// What idle endpoints cost Redis: endpoints that each consume their queue and two event types (three streams) wait with
/// nothing to do, and the server counts the commands (INFO commandstats before and after the window).
/// </summary>
public sealed class IdleWorkload :
    Workload
{
    public override string Id => "idle";
    public override string Title => "Idle cost: Redis commands of idle endpoints";

    public override string Settings(ComparisonOptions options) =>
        $"{options.IdleEndpoints} endpoints, each consuming its queue and two event types, after {options.IdleSettle.TotalSeconds:0.#} s "
        + $"of settling; {options.IdleWindow.TotalSeconds:0.#} s counted by the server. The bus's own endpoint is counted in, divided "
        + "over the endpoints. Details are commands/s per endpoint by command.";

    public override IReadOnlyList<Metric> Metrics(ComparisonOptions options) =>
    [
        new("perEndpoint", "Redis commands per endpoint", "commands/s", false),
        new("total", "Redis commands in all", "commands/s", false)
    ];

    public override string? NotApplicable(string transport) => transport switch
    {
        TransportNames.InMemory => "in-process: no server to count commands",
        TransportNames.RabbitMq => "the broker pushes to idle consumers: no commands to count",
        _ => null
    };

    public override async Task<Outcome> Run(string transport, BenchEnvironment environment, RunScope scope)
    {
        var options = environment.Options;
        IAsyncDisposable endpoints;
        if (transport == TransportNames.RawRedis)
            endpoints = await environment.Raw.StartIdle(options.IdleEndpoints);
        else
        {
            endpoints = await BenchBus.Start(environment.BusTransports[transport], scope, [], configure: (_, cfg) =>
            {
                for (var i = 0; i < options.IdleEndpoints; i++)
                    cfg.ReceiveEndpoint(scope.Endpoint("idle-" + i), e => e.Consumer<IdleConsumer>());
            });
        }

        try
        {
            await Task.Delay(options.IdleSettle);
            var before = await environment.Redis.CommandCalls();
            await Task.Delay(options.IdleWindow);
            var after = await environment.Redis.CommandCalls();

            var seconds = options.IdleWindow.TotalSeconds;
            var delta = after
                .Where(x => x.Key != "info")
                .Select(x => (Command: x.Key, Calls: x.Value - before.GetValueOrDefault(x.Key)))
                .Where(x => x.Calls > 0)
                .OrderByDescending(x => x.Calls)
                .ToList();
            var total = delta.Sum(x => x.Calls) / seconds;

            var outcome = new Outcome { Values = { ["perEndpoint"] = total / options.IdleEndpoints, ["total"] = total } };
            foreach (var (command, calls) in delta)
                outcome.Details[command + "/s per endpoint"] = calls / seconds / options.IdleEndpoints;
            return outcome;
        }
        finally
        {
            await endpoints.DisposeAsync();
        }
    }
}
