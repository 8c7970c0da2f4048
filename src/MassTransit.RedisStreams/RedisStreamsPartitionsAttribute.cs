namespace MassTransit;

using System;


/// <summary>
/// Spreads the published events of this message type over <see cref="Partitions" /> streams, which on a Redis Cluster fall on
/// different primaries. The send context's CorrelationId picks the partition (the MessageId when there is none), so the events
/// of one key keep their order. Consumers need no configuration: they read every partition. <c>cfg.Partition&lt;T&gt;(...)</c>
/// on the bus overrides it. See docs/history-and-replay.md, Partitions.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Interface, Inherited = false)]
public sealed class RedisStreamsPartitionsAttribute :
    Attribute
{
    /// <summary>Spreads the events of the type over <paramref name="partitions" /> streams.</summary>
    /// <param name="partitions">The number of partitions, from 1 (not partitioned) to 1024; a multiple of the primaries of the cluster.</param>
    public RedisStreamsPartitionsAttribute(int partitions)
    {
        Partitions = partitions;
    }

    /// <summary>The number of partition streams, from 1 (not partitioned) to 1024.</summary>
    public int Partitions { get; }
}
