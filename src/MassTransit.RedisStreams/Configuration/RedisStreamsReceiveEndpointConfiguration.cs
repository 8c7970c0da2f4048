namespace MassTransit.RedisStreams.Configuration;

using System;
using System.Collections.Generic;
using MassTransit.Configuration;
using Redis;
using Transport;
using Transports;


sealed class RedisStreamsReceiveEndpointConfiguration :
    ReceiveEndpointConfiguration,
    IRedisStreamsReceiveEndpointConfigurator
{
    readonly RedisStreamsEndpointConfiguration _endpointConfiguration;
    readonly RedisStreamsHostConfiguration _hostConfiguration;
    RedisStreamsStartPosition _startPosition = RedisStreamsStartPosition.NewMessages;

    public RedisStreamsReceiveEndpointConfiguration(RedisStreamsHostConfiguration hostConfiguration, string queueName,
        RedisStreamsEndpointConfiguration endpointConfiguration)
        : base(hostConfiguration, endpointConfiguration)
    {
        _hostConfiguration = hostConfiguration;
        _endpointConfiguration = endpointConfiguration;

        QueueName = queueName;
    }

    public string QueueName { get; }

    /// <summary>A temporary endpoint's queue stream expires when its process dies and is deleted, with its groups, on stop.</summary>
    public bool Temporary { get; set; }

    public RedisStreamsStartPosition StartPosition
    {
        get => _startPosition;
        set => _startPosition = value ?? throw new ArgumentNullException(nameof(value),
            "The start position must be RedisStreamsStartPosition.NewMessages, .Beginning or .At(time), not null.");
    }

    public int? MaxDeliveryCount { get; set; }

    public TimeSpan? ClaimTimeout { get; set; }

    public bool? MoveExpiredToSkipped { get; set; }

    public long? DegradedLagThreshold { get; set; }

    public TimeSpan? DegradedPendingAgeThreshold { get; set; }

    public RedisStreamsTopologyConfiguration TopologyConfiguration => _endpointConfiguration.Topology;

    public override Uri HostAddress => _hostConfiguration.HostAddress;

    public override Uri InputAddress =>
        new RedisStreamsEndpointAddress(_hostConfiguration.Settings.HostAddress, QueueName, temporary: Temporary).ToUri();

    public void Subscribe<T>()
        where T : class
    {
        _endpointConfiguration.Topology.Consume.Subscribe<T>();
    }

    public void Subscribe(string entityName)
    {
        _endpointConfiguration.Topology.Consume.Subscribe(entityName);
    }

    public override ReceiveEndpointContext CreateReceiveEndpointContext()
    {
        return CreateRedisStreamsReceiveEndpointContext();
    }

    public void Build(IHost host)
    {
        var context = CreateRedisStreamsReceiveEndpointContext();

        var transport = new RedisStreamsReceiveTransport(context);

        var receiveEndpoint = new ReceiveEndpoint(transport, context);

        host.AddReceiveEndpoint(QueueName, receiveEndpoint);

        ReceiveEndpoint = receiveEndpoint;
    }

    public override IEnumerable<ValidationResult> Validate()
    {
        foreach (var result in base.Validate())
            yield return result;

        var problem = StreamKeys.DescribeInvalidName(QueueName);
        if (problem != null)
            yield return this.Failure("QueueName", $"The queue name '{QueueName}' {problem}");

        if (MaxDeliveryCount < 1)
            yield return this.Failure("MaxDeliveryCount", $"must be at least 1 (was {MaxDeliveryCount}).");

        var deadConsumerTimeout = _hostConfiguration.Settings.DeadConsumerTimeout;
        if (ClaimTimeout < TimeSpan.FromSeconds(1) || ClaimTimeout > deadConsumerTimeout)
        {
            yield return this.Failure("ClaimTimeout",
                $"must be between 1 second and the bus's DeadConsumerTimeout of {deadConsumerTimeout} (was {ClaimTimeout}).");
        }
    }

    RedisStreamsReceiveEndpointContext CreateRedisStreamsReceiveEndpointContext()
    {
        var builder = new RedisStreamsReceiveEndpointBuilder(_hostConfiguration, this);

        ApplySpecifications(builder);

        return builder.CreateReceiveEndpointContext();
    }
}
