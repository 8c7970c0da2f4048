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
}
