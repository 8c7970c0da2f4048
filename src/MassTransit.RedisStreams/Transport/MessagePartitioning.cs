namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Concurrent;
using System.Reflection;
using Redis;
using StackExchange.Redis;


/// <summary>
/// Which published message types are spread over partition streams, and by which key: set with <c>cfg.Partition&lt;T&gt;</c>
/// or by <see cref="RedisStreamsPartitionsAttribute" /> on the type.
/// </summary>
sealed class MessagePartitioning
{
    readonly ConcurrentDictionary<Type, object> _configured = new();
    readonly ConcurrentDictionary<Type, object?> _resolved = new();

    /// <summary>Partitions <typeparamref name="T" /> into <paramref name="partitions" /> by <paramref name="key" />, or by its CorrelationId.</summary>
    public void Set<T>(int partitions, Func<SendContext<T>, string?>? key)
        where T : class
    {
        PartitionKeys.Validate(partitions, TypeCache<T>.ShortName, nameof(partitions));

        _configured[typeof(T)] = new MessagePartitioner<T>(partitions, key);
        _resolved.TryRemove(typeof(T), out _);
    }

    /// <summary>How <typeparamref name="T" /> is partitioned, or null when it is not (one partition is none).</summary>
    public MessagePartitioner<T>? For<T>()
        where T : class
    {
        return (MessagePartitioner<T>?)_resolved.GetOrAdd(typeof(T), _ => Resolve<T>());
    }

    object? Resolve<T>()
        where T : class
    {
        if (!_configured.TryGetValue(typeof(T), out var configured))
        {
            var attribute = typeof(T).GetCustomAttribute<RedisStreamsPartitionsAttribute>(false);
            if (attribute == null)
                return null;

            PartitionKeys.Validate(attribute.Partitions, TypeCache<T>.ShortName, nameof(RedisStreamsPartitionsAttribute.Partitions));
            configured = new MessagePartitioner<T>(attribute.Partitions, null);
        }

        return ((MessagePartitioner<T>)configured).Count > 1 ? configured : null;
    }
}


/// <summary>Picks the partition stream of a message of <typeparamref name="T" />.</summary>
sealed class MessagePartitioner<T>
    where T : class
{
    readonly Func<SendContext<T>, string?>? _key;

    public MessagePartitioner(int count, Func<SendContext<T>, string?>? key)
    {
        Count = count;
        _key = key;
    }

    public int Count { get; }

    /// <summary>The partition streams of entity <paramref name="entityName" />.</summary>
    public RedisKey[] Streams(StreamKeys keys, string entityName) => PartitionKeys.Streams(keys, entityName, Count);

    /// <summary>
    /// The stream of <paramref name="context" />'s partition: by its key (the CorrelationId unless configured otherwise), or by
    /// its MessageId when it has none.
    /// </summary>
    public RedisKey Select(StreamKeys keys, string entityName, SendContext<T> context)
    {
        return Streams(keys, entityName)[PartitionKeys.Partition(KeyOf(context), Count)];
    }

    /// <summary>
    /// A key of the application's own goes with the entry (<see cref="PartitionKeys.KeyHeader" />), so that a consumer whose
    /// handlers run side by side keeps the entries of that key in order; the CorrelationId is in every entry already. Called
    /// before the entry is written.
    /// </summary>
    public void AddKeyHeader(SendContext<T> context)
    {
        if (_key != null && _key(context) is { Length: > 0 } key)
            context.Headers.Set(PartitionKeys.KeyHeader, key);
    }

    string KeyOf(SendContext<T> context)
    {
        var key = _key != null
            ? context.Headers.Get<string>(PartitionKeys.KeyHeader) ?? _key(context)
            : context.CorrelationId is { } correlationId && correlationId != Guid.Empty
                ? correlationId.ToString("D")
                : null;

        if (!string.IsNullOrEmpty(key))
            return key;

        return context.MessageId?.ToString("D") ?? "";
    }
}
