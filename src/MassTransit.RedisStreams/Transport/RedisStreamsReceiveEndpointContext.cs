namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Configuration;
using Redis;
using StackExchange.Redis;
using Topology;
using Transports;


sealed class RedisStreamsReceiveEndpointContext :
    BaseReceiveEndpointContext,
    IEndpointStatus
{
    readonly RedisStreamsReceiveEndpointConfiguration _configuration;
    readonly RedisStreamsHostConfiguration _hostConfiguration;

    public RedisStreamsReceiveEndpointContext(RedisStreamsHostConfiguration hostConfiguration, RedisStreamsReceiveEndpointConfiguration configuration)
        : base(hostConfiguration, configuration)
    {
        _hostConfiguration = hostConfiguration;
        _configuration = configuration;

        BusContext = hostConfiguration.BusContext;
        QueueName = configuration.QueueName;
        QueueKey = BusContext.Keys.Queue(QueueName);
        Temporary = configuration.Temporary;
        StartPosition = configuration.StartPosition.GroupStartId;

        MaxDeliveryCount = configuration.MaxDeliveryCount ?? BusContext.Settings.MaxDeliveryCount;
        ClaimTimeout = configuration.ClaimTimeout ?? BusContext.Settings.ClaimTimeout;
        MoveExpiredToSkipped = configuration.MoveExpiredToSkipped ?? BusContext.Settings.MoveExpiredToSkipped;
        DegradedLagThreshold = configuration.DegradedLagThreshold ?? BusContext.Settings.DegradedLagThreshold;
        DegradedPendingAgeThreshold = configuration.DegradedPendingAgeThreshold ?? BusContext.Settings.DegradedPendingAgeThreshold;

        var errorStream = BusContext.Keys.Queue(BusContext.Keys.ErrorQueueName(QueueName));
        var skippedStream = BusContext.Keys.Queue(BusContext.Keys.SkippedQueueName(QueueName));

        ErrorTransport = new RedisStreamsErrorTransport(BusContext, errorStream, QueueName);
        SkippedTransport = new RedisStreamsDeadLetterTransport(BusContext, skippedStream, QueueName);
        GetOrAddPayload<IErrorTransport>(() => ErrorTransport);
        GetOrAddPayload<IDeadLetterTransport>(() => SkippedTransport);
        GetOrAddPayload(() => hostConfiguration.Topology);
    }

    public RedisStreamsBusContext BusContext { get; }

    /// <summary>How many times an entry is delivered without being acknowledged before it goes to <c>_error</c>.</summary>
    public int MaxDeliveryCount { get; }

    /// <summary>How long an entry may stay unacknowledged by a live instance before another claims it.</summary>
    public TimeSpan ClaimTimeout { get; }

    /// <summary>Whether expired messages go to <c>_skipped</c>; else they are dropped.</summary>
    public bool MoveExpiredToSkipped { get; }

    /// <summary>The lag past which the endpoint's health is Degraded; null for none.</summary>
    public long? DegradedLagThreshold { get; }

    /// <summary>How old the oldest pending entry may be before the endpoint's health is Degraded; null for no limit.</summary>
    public TimeSpan? DegradedPendingAgeThreshold { get; }

    /// <summary>The endpoint's <c>_error</c> stream, where entries that cannot be delivered go as well.</summary>
    public RedisStreamsErrorTransport ErrorTransport { get; }

    /// <summary>The endpoint's <c>_skipped</c> stream, where expired messages go when the bus says so.</summary>
    public RedisStreamsDeadLetterTransport SkippedTransport { get; }

    long _expired;

    /// <summary>Messages whose time to live had passed when they were read, dropped or moved to <c>_skipped</c>.</summary>
    public long ExpiredCount => Interlocked.Read(ref _expired);

    public void CountExpired()
    {
        Interlocked.Increment(ref _expired);
        Diagnostics.TransportMetrics.CountExpired(QueueName);
    }

    /// <summary>The endpoint's name, which is also the name of its consumer group on every stream it reads.</summary>
    public string QueueName { get; }

    public RedisKey QueueKey { get; }
    public bool Temporary { get; }
    /// <summary>
    /// Where new consumer groups on event streams start, as XGROUP CREATE takes it: <c>$</c> (new messages), <c>0</c> (the
    /// beginning), or the ID before a start time.
    /// </summary>
    public string StartPosition { get; }

    public RedisStreamsPublishTopology PublishTopology => _configuration.TopologyConfiguration.Publish;

    /// <summary>The entity names of the message types whose event streams this endpoint reads.</summary>
    public IReadOnlyList<string> GetSubscribedEntityNames() => _configuration.TopologyConfiguration.Consume.GetSubscribedEntityNames();

    Task IEndpointStatus.Connected => ReceivePipe.Connected;

    Task IEndpointStatus.NotifyReady(bool reading) => TransportObservers.NotifyReady(InputAddress, reading);

    Task IEndpointStatus.NotifyFaulted(Exception exception) =>
        TransportObservers.NotifyFaulted(InputAddress, ConvertException(exception, "Redis receive failed: "));

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
        context.Add("consumerName", BusContext.Identity.CurrentName ?? "");
        context.Add("temporary", Temporary);
        context.Add("expired", ExpiredCount);
    }

    protected override ISendTransportProvider CreateSendTransportProvider()
    {
        return new RedisStreamsSendTransportProvider(BusContext, this);
    }

    protected override IPublishTransportProvider CreatePublishTransportProvider()
    {
        return new RedisStreamsSendTransportProvider(BusContext, this);
    }
}
