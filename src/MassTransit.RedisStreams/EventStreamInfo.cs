namespace MassTransit;

using System;
using System.Collections.Generic;


/// <summary>What a stream holds and who reads it: the answer to <see cref="IEventHistory.GetStreamInfo{T}" />.</summary>
public sealed class EventStreamInfo
{
    /// <summary>The stream's key, e.g. <c>events:AuctionEnded</c>.</summary>
    public required string StreamKey { get; init; }

    /// <summary>The entity name of an event stream, or the endpoint name of a queue.</summary>
    public required string Name { get; init; }

    /// <summary>What the stream is.</summary>
    public required RedisStreamKind Kind { get; init; }

    /// <summary>False when there is no such stream yet: nothing was ever published or sent to it.</summary>
    public bool Exists { get; init; }

    /// <summary>The number of entries.</summary>
    public long Length { get; init; }

    /// <summary>The oldest entry's ID, or null when the stream is empty.</summary>
    public string? FirstEntryId { get; init; }

    /// <summary>When the oldest entry was appended.</summary>
    public DateTimeOffset? FirstEntryTime { get; init; }

    /// <summary>The newest entry's ID, or null when the stream is empty.</summary>
    public string? LastEntryId { get; init; }

    /// <summary>When the newest entry was appended.</summary>
    public DateTimeOffset? LastEntryTime { get; init; }

    /// <summary>The Redis memory the stream takes, in bytes (<c>MEMORY USAGE</c>), when the server tells.</summary>
    public long? MemoryBytes { get; init; }

    /// <summary>Delayed and scheduled messages waiting to be appended to the stream.</summary>
    public long ScheduledCount { get; init; }

    /// <summary>When the first of them is due; null when none waits.</summary>
    public DateTimeOffset? NextScheduledTime { get; init; }

    /// <summary>The consumer groups on the stream: one per receive endpoint that reads it.</summary>
    public IReadOnlyList<ConsumerGroupInfo> Groups { get; init; } = [];
}


/// <summary>One consumer group on a stream: a receive endpoint, and how far it has got.</summary>
public sealed class ConsumerGroupInfo
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
    public IReadOnlyList<GroupConsumerInfo> Consumers { get; init; } = [];
}


/// <summary>One consumer of a group: an instance of the endpoint.</summary>
public sealed class GroupConsumerInfo
{
    /// <summary>The consumer name the instance leased.</summary>
    public required string Name { get; init; }

    /// <summary>Entries delivered to this consumer and not yet acknowledged.</summary>
    public long Pending { get; init; }

    /// <summary>How long since the consumer last read or claimed.</summary>
    public TimeSpan Idle { get; init; }
}


/// <summary>What a stream is for.</summary>
public enum RedisStreamKind
{
    /// <summary><c>events:&lt;entity&gt;</c>: every publish of a message type.</summary>
    Events = 0,

    /// <summary><c>events:MassTransit:Fault--...</c>: the <c>Fault&lt;T&gt;</c> events published when consumers fail.</summary>
    Faults = 1,

    /// <summary><c>queue:&lt;name&gt;</c>: the messages sent to a receive endpoint.</summary>
    Queue = 2,

    /// <summary>A receive endpoint's error stream, <c>queue:&lt;name&gt;_error</c> by default.</summary>
    Error = 3,

    /// <summary>A receive endpoint's skipped stream, <c>queue:&lt;name&gt;_skipped</c> by default.</summary>
    Skipped = 4
}
