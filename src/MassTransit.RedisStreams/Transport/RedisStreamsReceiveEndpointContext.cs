namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Generic;
using Configuration;
using StackExchange.Redis;
using Topology;
using Transports;


sealed class RedisStreamsReceiveEndpointContext :
    BaseReceiveEndpointContext
{
    readonly RedisStreamsReceiveEndpointConfiguration _configuration;
    readonly RedisStreamsHostConfiguration _hostConfiguration;

    public RedisStreamsReceiveEndpointContext(RedisStreamsHostConfiguration hostConfiguration, RedisStreamsReceiveEndpointConfiguration configuration)
        : base(hostConfiguration, configuration)
    {
        _hostConfiguration = hostConfiguration;
        _configuration = configuration;

        Broker = hostConfiguration.Broker;
        QueueName = configuration.QueueName;
        QueueKey = Broker.Keys.Queue(QueueName);
        Temporary = configuration.Temporary;
        StartPosition = configuration.StartPosition;

        var errorStream = Broker.Keys.Queue(configuration.Topology.Send.ErrorQueueNameFormatter.FormatErrorQueueName(QueueName));
        var skippedStream = Broker.Keys.Queue(configuration.Topology.Send.DeadLetterQueueNameFormatter.FormatDeadLetterQueueName(QueueName));

        ErrorTransport = new RedisStreamsErrorTransport(Broker, errorStream);
        GetOrAddPayload<IErrorTransport>(() => ErrorTransport);
        GetOrAddPayload<IDeadLetterTransport>(() => new RedisStreamsDeadLetterTransport(Broker, skippedStream));
        GetOrAddPayload(() => hostConfiguration.Topology);
    }

    public RedisStreamsBroker Broker { get; }

    /// <summary>The endpoint's <c>_error</c> stream, where entries that cannot be delivered go as well.</summary>
    public RedisStreamsErrorTransport ErrorTransport { get; }

    /// <summary>The endpoint's name, which is also the name of its consumer group on every stream it reads.</summary>
    public string QueueName { get; }

    public RedisKey QueueKey { get; }
    public bool Temporary { get; }
    public RedisStreamsStartPosition StartPosition { get; }

    public RedisStreamsPublishTopology PublishTopology => _configuration.TopologyConfiguration.Publish;

    /// <summary>The entity names of the message types whose event streams this endpoint reads.</summary>
    public IReadOnlyList<string> GetSubscribedEntityNames() => _configuration.TopologyConfiguration.Consume.GetSubscribedEntityNames();

    public override void AddSendAgent(IAgent agent)
    {
        throw new NotSupportedException("The Redis Streams transport has no send agents.");
    }

    public override void AddConsumeAgent(IAgent agent)
    {
        throw new NotSupportedException("The Redis Streams transport has no consume agents.");
    }

    public override Exception ConvertException(Exception exception, string message)
    {
        return exception is RedisConnectionException or RedisTimeoutException
            ? new ConnectionException(message + exception.Message, exception)
            : new TransportException(InputAddress, message + exception.Message, exception);
    }

    public override void Probe(ProbeContext context)
    {
        context.Add("queueKey", QueueKey.ToString());
        context.Add("consumerName", Broker.Identity.CurrentName ?? "");
        context.Add("temporary", Temporary);
    }

    protected override ISendTransportProvider CreateSendTransportProvider()
    {
        return new RedisStreamsSendTransportProvider(Broker, this);
    }

    protected override IPublishTransportProvider CreatePublishTransportProvider()
    {
        return new RedisStreamsSendTransportProvider(Broker, this);
    }
}
