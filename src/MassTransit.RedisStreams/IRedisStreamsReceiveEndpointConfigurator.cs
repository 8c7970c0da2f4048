namespace MassTransit;

using System;


/// <summary>
/// Configures a receive endpoint on the Redis Streams transport. The endpoint reads its queue stream <c>queue:{name}</c> and,
/// for every message type it consumes, the event stream of that type, each through a consumer group named after the endpoint.
/// </summary>
public interface IRedisStreamsReceiveEndpointConfigurator :
    IReceiveEndpointConfigurator
{
    /// <summary>
    /// Where this endpoint's consumer groups on event streams start when they are first created:
    /// <see cref="RedisStreamsStartPosition.NewMessages" /> (the default), <see cref="RedisStreamsStartPosition.Beginning" />,
    /// which delivers every event already in the log, or <see cref="RedisStreamsStartPosition.At" /> a point in time. Groups
    /// that exist keep their position; move them with <see cref="IRedisStreamsEventHistory.Rewind" />. The endpoint's own queue
    /// stream always starts at its beginning, so nothing sent before the endpoint first ran is missed.
    /// </summary>
    RedisStreamsStartPosition StartPosition { set; }

    /// <summary>
    /// How many times an entry is delivered to this endpoint without being acknowledged before it is moved to the endpoint's
    /// <c>_error</c> stream; overrides the bus's <see cref="RedisStreamsTransportOptions.MaxDeliveryCount" />. At least 1.
    /// </summary>
    int? MaxDeliveryCount { set; }

    /// <summary>
    /// How long an entry this endpoint read may stay unacknowledged by an instance that still runs before another instance
    /// claims it; overrides the bus's <see cref="RedisStreamsTransportOptions.ClaimTimeout" />. At least 1 second, and not
    /// more than the bus's <see cref="RedisStreamsTransportOptions.DeadConsumerTimeout" />.
    /// </summary>
    TimeSpan? ClaimTimeout { set; }

    /// <summary>
    /// Whether a message whose time to live has passed when this endpoint reads it goes to the endpoint's <c>_skipped</c>
    /// stream (true) or is dropped (false); overrides the bus's <see cref="RedisStreamsTransportOptions.MoveExpiredToSkipped" />.
    /// </summary>
    bool? MoveExpiredToSkipped { set; }

    /// <summary>
    /// The lag past which this endpoint's health is Degraded; overrides the bus's
    /// <see cref="RedisStreamsTransportOptions.DegradedLagThreshold" />.
    /// </summary>
    long? DegradedLagThreshold { set; }

    /// <summary>
    /// How old this endpoint's oldest pending entry may be before its health is Degraded; overrides the bus's
    /// <see cref="RedisStreamsTransportOptions.DegradedPendingAgeThreshold" />.
    /// </summary>
    TimeSpan? DegradedPendingAgeThreshold { set; }

    /// <summary>
    /// Subscribes the endpoint to the events of <typeparamref name="T" /> (and of its derived types), also when no consumer
    /// on the endpoint consumes <typeparamref name="T" /> or when <see cref="IReceiveEndpointConfigurator.ConfigureConsumeTopology" /> is off.
    /// </summary>
    /// <typeparam name="T">The message type.</typeparam>
    void Subscribe<T>()
        where T : class;

    /// <summary>
    /// Subscribes the endpoint to the event stream of the entity name <paramref name="entityName" />: <c>events:{entityName}</c>.
    /// </summary>
    /// <param name="entityName">The entity name of a message type, e.g. <c>AuctionEnded</c>.</param>
    void Subscribe(string entityName);
}
