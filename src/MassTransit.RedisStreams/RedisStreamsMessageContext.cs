namespace MassTransit;

/// <summary>
/// Where a received message came from; available to consumers as a payload:
/// <c>context.TryGetPayload&lt;RedisStreamsMessageContext&gt;(out var redis)</c>.
/// </summary>
public interface RedisStreamsMessageContext
{
    /// <summary>The key of the stream the entry was read from, e.g. <c>events:AuctionEnded</c>.</summary>
    string StreamKey { get; }

    /// <summary>The entry ID, e.g. <c>1700000000000-0</c>; its first part is the append time in Unix milliseconds.</summary>
    string EntryId { get; }

    /// <summary>The consumer group that read the entry: the receive endpoint's name.</summary>
    string ConsumerGroup { get; }

    /// <summary>The consumer (process instance) that read the entry.</summary>
    string ConsumerName { get; }

    /// <summary>
    /// How many times the entry has been delivered, this delivery included: 1 the first time; more after a crash, a lost
    /// connection or a failure that left it unacknowledged. <see cref="ReceiveContext.Redelivered" /> is true when above 1.
    /// </summary>
    int DeliveryCount { get; }

    /// <summary>
    /// True when the message is a replayed copy of a stored event (see <see cref="IRedisStreamsEventHistory.Replay{T}" />), not its first
    /// delivery.
    /// </summary>
    bool IsReplay { get; }

    /// <summary>For a replay: the entry ID of the stored event it is a copy of, in <see cref="ReplayedStreamKey" />.</summary>
    string? ReplayedEntryId { get; }

    /// <summary>For a replay: the stream the stored event is in, e.g. <c>events:AuctionEnded</c>.</summary>
    string? ReplayedStreamKey { get; }
}
