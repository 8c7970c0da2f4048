namespace MassTransit;

using System;
using System.Collections.Generic;


/// <summary>What a stream holds and who reads it: the answer to <see cref="IRedisStreamsEventHistory.GetStreamInfo{T}" />.</summary>
public sealed class RedisStreamsStreamInfo
{
    /// <summary>The stream's key, e.g. <c>events:AuctionEnded</c>.</summary>
    public required string StreamKey { get; init; }

    /// <summary>The entity name of an event stream, or the endpoint name of a queue.</summary>
    public required string Name { get; init; }

    /// <summary>What the stream is.</summary>
    public required RedisStreamsStreamKind Kind { get; init; }

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
    public IReadOnlyList<RedisStreamsGroupInfo> Groups { get; init; } = [];

    /// <summary>
    /// For a partitioned message type, its partition streams, each described on its own, those of an earlier partition count
    /// included until they are gone; empty otherwise. The totals of the type (length, first and last entry, memory, and each
    /// group's pending count and lag) include them. See docs/history-and-replay.md, Partitions.
    /// </summary>
    public IReadOnlyList<RedisStreamsStreamInfo> Partitions { get; init; } = [];

    /// <summary>For a partition stream: its number, from 0, among <see cref="PartitionCount" />.</summary>
    public int? Partition { get; init; }

    /// <summary>For a partition stream: the number of partitions of the layout it belongs to.</summary>
    public int? PartitionCount { get; init; }

    /// <summary>For a partition stream: the Redis Cluster hash slot of its key.</summary>
    public int? HashSlot { get; init; }

    /// <summary>For a partition stream on a Redis Cluster: the address of the primary that serves its slot.</summary>
    public string? Node { get; init; }
}
