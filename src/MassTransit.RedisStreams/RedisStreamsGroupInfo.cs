namespace MassTransit;

using System.Collections.Generic;


/// <summary>One consumer group on a stream: a receive endpoint, and how far it has got.</summary>
public sealed class RedisStreamsGroupInfo
{
    /// <summary>The group's name, which is the receive endpoint's name.</summary>
    public required string Name { get; init; }

    /// <summary>Entries delivered to the group's consumers and not yet acknowledged.</summary>
    public long Pending { get; init; }

    /// <summary>
    /// Entries not yet delivered to the group; null when Redis cannot tell (after entries were deleted from the middle of the
    /// stream, or a group was moved).
    /// </summary>
    public long? Lag { get; init; }

    /// <summary>The ID of the last entry delivered to the group.</summary>
    public required string LastDeliveredId { get; init; }

    /// <summary>The group's consumers: one per running (or recently running) instance of the endpoint.</summary>
    public IReadOnlyList<RedisStreamsConsumerInfo> Consumers { get; init; } = [];
}
