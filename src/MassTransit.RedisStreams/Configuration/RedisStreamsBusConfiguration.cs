namespace MassTransit.RedisStreams.Configuration;

using MassTransit.Configuration;
using Observables;
using Transport;


sealed class RedisStreamsBusConfiguration :
    RedisStreamsEndpointConfiguration,
    IBusConfiguration
{
    readonly BusObservable _busObservers;

    public RedisStreamsBusConfiguration(RedisStreamsTopologyConfiguration topology)
        : base(topology)
    {
        HostConfiguration = new RedisStreamsHostConfiguration(this);
        BusEndpointConfiguration = CreateEndpointConfiguration(true);

        _busObservers = new BusObservable();
        _busObservers.Connect(new BackgroundAgentsStarter(HostConfiguration));
    }

    public RedisStreamsHostConfiguration HostConfiguration { get; }
    public RedisStreamsEndpointConfiguration BusEndpointConfiguration { get; }

    IHostConfiguration IBusConfiguration.HostConfiguration => HostConfiguration;
    IEndpointConfiguration IBusConfiguration.BusEndpointConfiguration => BusEndpointConfiguration;
    IBusObserver IBusConfiguration.BusObservers => _busObservers;

    public ConnectHandle ConnectBusObserver(IBusObserver observer)
    {
        return _busObservers.Connect(observer);
    }

    public ConnectHandle ConnectEndpointConfigurationObserver(IEndpointConfigurationObserver observer)
    {
        return HostConfiguration.ConnectEndpointConfigurationObserver(observer);
    }
}
