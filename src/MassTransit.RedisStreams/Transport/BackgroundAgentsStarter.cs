namespace MassTransit.RedisStreams.Transport;

using System;
using System.Threading.Tasks;
using Configuration;
using Internals;


/// <summary>
/// Begins connecting to Redis as soon as the bus starts, while MassTransit starts its receive endpoints; starts what a bus runs
/// in the background once it has started — the delayed message pump, and the retention pass when it is on. The host stops
/// them with the bus.
/// </summary>
sealed class BackgroundAgentsStarter :
    IBusObserver
{
    readonly RedisStreamsHostConfiguration _hostConfiguration;

    public BackgroundAgentsStarter(RedisStreamsHostConfiguration hostConfiguration)
    {
        _hostConfiguration = hostConfiguration;
    }

    public Task PostStart(IBus bus, Task<BusReady> busReady)
    {
        _hostConfiguration.BusContext.StartBackgroundAgents();
        return Task.CompletedTask;
    }

    public void PostCreate(IBus bus)
    {
    }

    public void CreateFaulted(Exception exception)
    {
    }

    public Task PreStart(IBus bus)
    {
        // The first connection of a process costs StackExchange.Redis most of a start's time; the endpoints wait for this one.
        var context = _hostConfiguration.BusContext;
        context.Connection.BeginConnecting();

        // Every endpoint's set-up waits for the consumer name; taking it here, on another thread, overlaps MassTransit
        // starting the endpoints. A failure here is met again, and retried, by the set-up.
        Task.Run(context.Identity.Acquire).IgnoreUnobservedExceptions();
        return Task.CompletedTask;
    }

    public Task StartFaulted(IBus bus, Exception exception) => Task.CompletedTask;

    public Task PreStop(IBus bus) => Task.CompletedTask;

    public Task PostStop(IBus bus) => Task.CompletedTask;

    public Task StopFaulted(IBus bus, Exception exception) => Task.CompletedTask;
}
