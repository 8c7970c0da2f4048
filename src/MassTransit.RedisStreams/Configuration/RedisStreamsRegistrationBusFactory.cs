namespace MassTransit.RedisStreams.Configuration;

using System;
using System.Collections.Generic;
using System.Linq;
using MassTransit.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Transports;


sealed class RedisStreamsRegistrationBusFactory :
    TransportRegistrationBusFactory<IRedisStreamsReceiveEndpointConfigurator>
{
    readonly RedisStreamsBusConfiguration _busConfiguration;
    readonly Action<IBusRegistrationContext, IRedisStreamsBusFactoryConfigurator>? _configure;

    public RedisStreamsRegistrationBusFactory(Action<IBusRegistrationContext, IRedisStreamsBusFactoryConfigurator>? configure)
        : this(new RedisStreamsBusConfiguration(new RedisStreamsTopologyConfiguration()), configure)
    {
    }

    RedisStreamsRegistrationBusFactory(RedisStreamsBusConfiguration busConfiguration,
        Action<IBusRegistrationContext, IRedisStreamsBusFactoryConfigurator>? configure)
        : base(busConfiguration.HostConfiguration)
    {
        _busConfiguration = busConfiguration;
        _configure = configure;
    }

    public override IBusInstance CreateBus(IBusRegistrationContext context, IEnumerable<IBusInstanceSpecification> specifications, string busName)
    {
        var configurator = new RedisStreamsBusFactoryConfigurator(_busConfiguration);

        var options = context.GetService<IOptionsMonitor<RedisStreamsTransportOptions>>()?.Get(busName);
        if (options != null)
            configurator.Apply(options);

        return CreateBus(configurator, context, (IBusRegistrationContext busContext, IRedisStreamsBusFactoryConfigurator cfg) =>
        {
            _configure?.Invoke(busContext, cfg);
            BeginConnecting(context.GetService<OpenedConnections>());
        }, specifications);
    }

    /// <summary>
    /// Begins opening the connection as soon as the application's configuration is known, while MassTransit builds the bus:
    /// the first connection of a process costs StackExchange.Redis most of a start's time, and this way it overlaps the
    /// building. Settings that do not validate are left for the bus's validation to report.
    /// </summary>
    void BeginConnecting(OpenedConnections? opened)
    {
        var hostConfiguration = _busConfiguration.HostConfiguration;
        if (opened == null || hostConfiguration.Settings.Validate().Any(x => x.Disposition == ValidationResultDisposition.Failure))
            return;

        var connection = hostConfiguration.BusContext.Connection;
        opened.Add(connection);
        connection.BeginConnecting();
    }
}
