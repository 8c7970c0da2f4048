namespace MassTransit.RedisStreams.Configuration;

using System;
using System.Collections.Generic;
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

        return CreateBus(configurator, context, _configure, specifications);
    }
}
