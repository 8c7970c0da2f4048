namespace MassTransit.RedisStreams.Configuration;

using System;
using System.Collections.Generic;
using System.Linq;
using MassTransit.Configuration;
using StackExchange.Redis;
using History;
using Retention;
using Transport;
using Transports;


sealed class RedisStreamsHostConfiguration :
    BaseHostConfiguration<RedisStreamsReceiveEndpointConfiguration, IRedisStreamsReceiveEndpointConfigurator>
{
    readonly RedisStreamsBusConfiguration _busConfiguration;
    readonly Lazy<RedisStreamsBusContext> _bus;
    readonly RedisStreamsBusTopology _topology;

    public RedisStreamsHostConfiguration(RedisStreamsBusConfiguration busConfiguration)
        : base(busConfiguration)
    {
        _busConfiguration = busConfiguration;

        Settings = new RedisStreamsHostSettings();
        _topology = new RedisStreamsBusTopology(this, busConfiguration.Topology);
        _bus = new Lazy<RedisStreamsBusContext>(() => new RedisStreamsBusContext(this));

        // Required by MassTransit's host configuration; this transport's receive loops recover from Redis failures by
        // themselves and never hand a failure to it.
        ReceiveTransportRetryPolicy = Retry.CreatePolicy(x =>
        {
            x.Handle<ConnectionException>();
            x.Handle<RedisException>();
            x.Exponential(1000, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200));
        });
    }

    public RedisStreamsHostSettings Settings { get; }

    /// <summary>The retention policies set with <c>cfg.Retention</c>.</summary>
    public RetentionSettings Retention { get; } = new();

    /// <summary>The event upgrades registered with <c>cfg.UpgradeEvent</c>.</summary>
    public EventUpgrades Upgrades { get; } = new();

    /// <summary>The message types spread over partition streams, set with <c>cfg.Partition&lt;T&gt;</c> or by attribute.</summary>
    public MessagePartitioning Partitions { get; } = new();

    /// <summary>The bus's message topology, which names the event stream of each message type.</summary>
    public IMessageTopology MessageTopology => _busConfiguration.Topology.Message;

    /// <summary>The bus's serializers, for reading stored events outside a receive endpoint.</summary>
    public ISerialization CreateSerialization() => _busConfiguration.Serialization.CreateSerializerCollection();

    /// <summary>Created when the bus is built, after every <c>Host(...)</c> call.</summary>
    public RedisStreamsBusContext BusContext => _bus.Value;

    /// <summary>The address of the bus endpoint, once it is configured: the source address of what the bus sends itself.</summary>
    public Uri? BusEndpointAddress { get; set; }

    public override Uri HostAddress => Settings.HostAddress.ToUri();
    public override IBusTopology Topology => _topology;
    public override IRetryPolicy ReceiveTransportRetryPolicy { get; }

    public override IEnumerable<ValidationResult> Validate()
    {
        return Settings.Validate().Concat(Retention.Validate()).Concat(base.Validate());
    }

    public RedisStreamsReceiveEndpointConfiguration CreateReceiveEndpointConfiguration(string queueName,
        Action<IRedisStreamsReceiveEndpointConfigurator>? configure)
    {
        return CreateReceiveEndpointConfiguration(queueName, _busConfiguration.CreateEndpointConfiguration(), configure);
    }

    public RedisStreamsReceiveEndpointConfiguration CreateReceiveEndpointConfiguration(string queueName,
        RedisStreamsEndpointConfiguration endpointConfiguration, Action<IRedisStreamsReceiveEndpointConfigurator>? configure)
    {
        if (string.IsNullOrWhiteSpace(queueName))
            throw new ArgumentException("The queue name must not be empty.", nameof(queueName));

        var configuration = new RedisStreamsReceiveEndpointConfiguration(this, queueName, endpointConfiguration);

        configure?.Invoke(configuration);

        Observers.EndpointConfigured(configuration);
        Add(configuration);

        return configuration;
    }

    public override IReceiveEndpointConfiguration CreateReceiveEndpointConfiguration(string queueName, Action<IReceiveEndpointConfigurator>? configure)
    {
        return CreateReceiveEndpointConfiguration(queueName, configure);
    }

    public override void ReceiveEndpoint(IEndpointDefinition definition, IEndpointNameFormatter? endpointNameFormatter,
        Action<IRedisStreamsReceiveEndpointConfigurator>? configureEndpoint = null)
    {
        var queueName = definition.GetEndpointName(endpointNameFormatter ?? DefaultEndpointNameFormatter.Instance);

        ReceiveEndpoint(queueName, configurator =>
        {
            ApplyEndpointDefinition(configurator, definition);
            configureEndpoint?.Invoke(configurator);
        });
    }

    public override void ReceiveEndpoint(string queueName, Action<IRedisStreamsReceiveEndpointConfigurator> configureEndpoint)
    {
        CreateReceiveEndpointConfiguration(queueName, configureEndpoint);
    }

    public void ApplyEndpointDefinition(IRedisStreamsReceiveEndpointConfigurator configurator, IEndpointDefinition definition)
    {
        if (definition.IsTemporary && configurator is RedisStreamsReceiveEndpointConfiguration configuration)
            configuration.Temporary = true;

        base.ApplyEndpointDefinition(configurator, definition);
    }

    public override IHost Build()
    {
        var host = new RedisStreamsHost(this, _topology);

        foreach (var endpointConfiguration in GetConfiguredEndpoints())
            endpointConfiguration.Build(host);

        return host;
    }
}
