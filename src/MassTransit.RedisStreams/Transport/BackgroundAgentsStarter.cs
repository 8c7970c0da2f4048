namespace MassTransit.RedisStreams.Transport;

using System;
using System.Threading.Tasks;
using Configuration;


/// <summary>
/// Starts what a bus runs in the background once it has started — the delayed message pump, and the retention pass when
/// it is on; the host stops them with the bus.
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

    public Task PreStart(IBus bus) => Task.CompletedTask;

    public Task StartFaulted(IBus bus, Exception exception) => Task.CompletedTask;

    public Task PreStop(IBus bus) => Task.CompletedTask;

    public Task PostStop(IBus bus) => Task.CompletedTask;

    public Task StopFaulted(IBus bus, Exception exception) => Task.CompletedTask;
}
