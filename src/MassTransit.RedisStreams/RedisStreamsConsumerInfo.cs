namespace MassTransit;

using System;


/// <summary>One consumer of a group: an instance of the endpoint.</summary>
public sealed class RedisStreamsConsumerInfo
{
    /// <summary>The consumer name the instance leased.</summary>
    public required string Name { get; init; }

    /// <summary>Entries delivered to this consumer and not yet acknowledged.</summary>
    public long Pending { get; init; }

    /// <summary>How long since the consumer last read or claimed.</summary>
    public TimeSpan Idle { get; init; }
}
