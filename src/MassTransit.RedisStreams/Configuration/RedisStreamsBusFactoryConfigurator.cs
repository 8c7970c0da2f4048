namespace MassTransit.RedisStreams.Configuration;

using System;
using MassTransit.Configuration;
using RedisStreams.Serialization;
using StackExchange.Redis;


sealed class RedisStreamsBusFactoryConfigurator :
    BusFactoryConfigurator,
    IRedisStreamsBusFactoryConfigurator,
    IBusFactory
{
    /// <summary>
    /// The PrefetchCount of an endpoint that sets none: how far it reads ahead (MassTransit's own default is
    /// <c>max(2 × processors, 16)</c>). Its handlers still default to MassTransit's concurrency (see <c>StreamReceiver</c>).
    /// </summary>
    public const int DefaultPrefetchCount = 64;

    readonly RedisStreamsBusConfiguration _busConfiguration;
    readonly RedisStreamsHostConfiguration _hostConfiguration;

    public RedisStreamsBusFactoryConfigurator(RedisStreamsBusConfiguration busConfiguration)
        : base(busConfiguration)
    {
        _busConfiguration = busConfiguration;
        _hostConfiguration = busConfiguration.HostConfiguration;

        // Reading 64 entries ahead rather than MassTransit's usual 16 lets each XREADGROUP and XACK carry more. Set on the bus or
        // an endpoint, PrefetchCount replaces it; the number of handlers that run at once stays MassTransit's default unless
        // ConcurrentMessageLimit (or an endpoint's own PrefetchCount) says otherwise.
        busConfiguration.Transport.Configurator.PrefetchCount = DefaultPrefetchCount;

        // The transport's own format is the default; UseJsonSerializer() and the like, called after, replace it for sending.
        var entryJson = new EntryJsonSerializerFactory();
        busConfiguration.Serialization.AddSerializer(entryJson);
        busConfiguration.Serialization.AddDeserializer(entryJson, true);
    }

    public RedisStreamsHostConfiguration HostConfiguration => _hostConfiguration;

    public IReceiveEndpointConfiguration CreateBusEndpointConfiguration(Action<IReceiveEndpointConfigurator> configure)
    {
        var queueName = _busConfiguration.Topology.Consume.CreateTemporaryQueueName("bus");

        var configuration = _hostConfiguration.CreateReceiveEndpointConfiguration(queueName, _busConfiguration.BusEndpointConfiguration, x =>
        {
            ((RedisStreamsReceiveEndpointConfiguration)x).Temporary = true;
            configure(x);
        });

        _hostConfiguration.BusEndpointAddress = configuration.InputAddress;

        return configuration;
    }

    public void Host(string configuration, Action<IRedisStreamsHostConfigurator>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);

        _hostConfiguration.Settings.Use(configuration);
        configure?.Invoke(_hostConfiguration.Settings);
    }

    public void Host(ConfigurationOptions options, Action<IRedisStreamsHostConfigurator>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);

        _hostConfiguration.Settings.Use(options);
        configure?.Invoke(_hostConfiguration.Settings);
    }

    public void Host(IConnectionMultiplexer multiplexer, Action<IRedisStreamsHostConfigurator>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(multiplexer);

        _hostConfiguration.Settings.Use(multiplexer);
        configure?.Invoke(_hostConfiguration.Settings);
    }

    public void Retention(Action<IRedisStreamsRetentionConfigurator> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);

        configure(_hostConfiguration.Retention);
    }

    public void UpgradeEvent<TOld, TNew>(Func<TOld, TNew> upgrade)
        where TOld : class
        where TNew : class
    {
        _hostConfiguration.Upgrades.Add(upgrade);
    }

    public void Partition<T>(int partitions)
        where T : class
    {
        _hostConfiguration.Partitions.Set<T>(partitions, null);
    }

    public void Partition<T>(int partitions, Func<SendContext<T>, string?> key)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(key);

        _hostConfiguration.Partitions.Set(partitions, key);
    }

    /// <summary>Applies options bound through Microsoft.Extensions.Options before the application's own callback runs.</summary>
    public void Apply(RedisStreamsTransportOptions options)
    {
        _hostConfiguration.Settings.Apply(options);
    }

    public void ReceiveEndpoint(IEndpointDefinition definition, IEndpointNameFormatter? endpointNameFormatter,
        Action<IRedisStreamsReceiveEndpointConfigurator>? configureEndpoint = null)
    {
        _hostConfiguration.ReceiveEndpoint(definition, endpointNameFormatter, configureEndpoint);
    }

    public void ReceiveEndpoint(IEndpointDefinition definition, IEndpointNameFormatter? endpointNameFormatter,
        Action<IReceiveEndpointConfigurator>? configureEndpoint = null)
    {
        _hostConfiguration.ReceiveEndpoint(definition, endpointNameFormatter, configureEndpoint);
    }

    public void ReceiveEndpoint(string queueName, Action<IRedisStreamsReceiveEndpointConfigurator> configureEndpoint)
    {
        _hostConfiguration.ReceiveEndpoint(queueName, configureEndpoint);
    }

    public void ReceiveEndpoint(string queueName, Action<IReceiveEndpointConfigurator> configureEndpoint)
    {
        _hostConfiguration.ReceiveEndpoint(queueName, configureEndpoint);
    }
}
