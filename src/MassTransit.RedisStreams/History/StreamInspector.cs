namespace MassTransit.RedisStreams.History;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;


/// <summary>Describes streams: their entries, memory and consumer groups, one at a time or all of a bus.</summary>
sealed class StreamInspector
{
    /// <summary>The entity names MassTransit gives <c>Fault&lt;T&gt;</c> with this transport's name formatter begin so.</summary>
    const string FaultEntityPrefix = "MassTransit:Fault--";

    readonly IStreamAdmin _admin;
    readonly IDelayedStore _delayed;

    public StreamInspector(RedisGateway redis)
    {
        _admin = redis.Admin;
        _delayed = redis.Delayed;
        Keys = redis.Keys;
    }

    StreamKeys Keys { get; }

    /// <summary>The kind of event stream an entity name has: faults or events.</summary>
    public static RedisStreamsStreamKind EventKind(string entityName) =>
        entityName.StartsWith(FaultEntityPrefix, StringComparison.Ordinal) ? RedisStreamsStreamKind.Faults : RedisStreamsStreamKind.Events;

    /// <summary>One stream: XINFO STREAM, XINFO GROUPS, XINFO CONSUMERS of each group and MEMORY USAGE, sent together.</summary>
    public async Task<RedisStreamsStreamInfo> Describe(RedisKey key, string name, RedisStreamsStreamKind kind)
    {
        var infoTask = _admin.GetStreamInfo(key);
        var groupsTask = _admin.GetGroups(key);
        var memoryTask = _admin.GetMemoryUsage(key);
        var scheduledTask = _delayed.GetSummary(key);

        var info = await infoTask.ConfigureAwait(false);
        var groups = await groupsTask.ConfigureAwait(false);
        var memory = await memoryTask.ConfigureAwait(false);
        var (scheduled, nextDue) = await scheduledTask.ConfigureAwait(false);

        if (info is not { } stream)
        {
            return new RedisStreamsStreamInfo
            {
                StreamKey = key.ToString(),
                Name = name,
                Kind = kind,
                Exists = false,
                ScheduledCount = scheduled,
                NextScheduledTime = nextDue
            };
        }

        var consumers = await Task.WhenAll(groups.Select(x => _admin.GetConsumers(key, x.Name))).ConfigureAwait(false);

        return new RedisStreamsStreamInfo
        {
            StreamKey = key.ToString(),
            Name = name,
            Kind = kind,
            Exists = true,
            Length = stream.Length,
            FirstEntryId = stream.Length > 0 ? (string?)stream.FirstEntry.Id : null,
            FirstEntryTime = stream.Length > 0 ? StreamEntryId.Parse(stream.FirstEntry.Id).Timestamp : null,
            LastEntryId = stream.Length > 0 ? (string?)stream.LastEntry.Id : null,
            LastEntryTime = stream.Length > 0 ? StreamEntryId.Parse(stream.LastEntry.Id).Timestamp : null,
            MemoryBytes = memory,
            ScheduledCount = scheduled,
            NextScheduledTime = nextDue,
            Groups = groups.Select((group, i) => new RedisStreamsGroupInfo
            {
                Name = group.Name,
                Pending = group.PendingMessageCount,
                Lag = group.Lag,
                LastDeliveredId = group.LastDeliveredId ?? "0-0",
                Consumers = consumers[i].Select(c => new RedisStreamsConsumerInfo
                {
                    Name = c.Name,
                    Pending = c.PendingMessageCount,
                    Idle = TimeSpan.FromMilliseconds(c.IdleTimeInMilliseconds)
                }).ToArray()
            }).ToArray()
        };
    }

    /// <summary>
    /// The event stream of <paramref name="entityName" /> as one: with its partition streams among <paramref name="sources" />
    /// (the type's sources), when it has any, totalled and listed.
    /// </summary>
    public async Task<RedisStreamsStreamInfo> DescribeType(string entityName, IEnumerable<RedisKey> sources)
    {
        var kind = EventKind(entityName);
        var own = Describe(Keys.Events(entityName), entityName, kind);
        var partitions = sources.Where(x => Keys.EntityNameOf(x) is { } name && PartitionKeys.TryParse(name, out var type, out _, out _) && type == entityName)
            .Select(DescribePartition).ToList();

        return partitions.Count == 0 ? await own.ConfigureAwait(false) : Combine(await own.ConfigureAwait(false), await Task.WhenAll(partitions).ConfigureAwait(false));
    }

    /// <summary>A partition stream, with its place in its layout, its hash slot and, on a Redis Cluster, its node.</summary>
    async Task<RedisStreamsStreamInfo> DescribePartition(RedisKey key)
    {
        var name = Keys.EntityNameOf(key)!;
        if (!PartitionKeys.TryParse(name, out var type, out var index, out var count))
            throw new ArgumentException($"{key} is not a partition stream.", nameof(key));

        var node = _admin.GetNode(key);
        var info = await Describe(key, name, EventKind(type)).ConfigureAwait(false);

        return new RedisStreamsStreamInfo
        {
            StreamKey = info.StreamKey,
            Name = info.Name,
            Kind = info.Kind,
            Exists = info.Exists,
            Length = info.Length,
            FirstEntryId = info.FirstEntryId,
            FirstEntryTime = info.FirstEntryTime,
            LastEntryId = info.LastEntryId,
            LastEntryTime = info.LastEntryTime,
            MemoryBytes = info.MemoryBytes,
            ScheduledCount = info.ScheduledCount,
            NextScheduledTime = info.NextScheduledTime,
            Groups = info.Groups,
            Partition = index,
            PartitionCount = count,
            HashSlot = PartitionKeys.Slot(key.ToString()),
            Node = await node.ConfigureAwait(false)
        };
    }

    /// <summary>
    /// A partitioned type as one stream: the totals of its own stream and its partitions, the oldest and newest entry among
    /// them, and each group's pending entries and lag summed over the streams it reads.
    /// </summary>
    static RedisStreamsStreamInfo Combine(RedisStreamsStreamInfo own, IReadOnlyList<RedisStreamsStreamInfo> partitions)
    {
        var all = partitions.Prepend(own).Where(x => x.Exists).ToList();
        var first = all.Where(x => x.FirstEntryId != null).MinBy(x => StreamEntryId.Parse(x.FirstEntryId!));
        var last = all.Where(x => x.LastEntryId != null).MaxBy(x => StreamEntryId.Parse(x.LastEntryId!));

        var groups = all.SelectMany(x => x.Groups).GroupBy(x => x.Name, StringComparer.Ordinal).OrderBy(x => x.Key, StringComparer.Ordinal).Select(group =>
            new RedisStreamsGroupInfo
            {
                Name = group.Key,
                Pending = group.Sum(x => x.Pending),
                Lag = group.All(x => x.Lag.HasValue) ? group.Sum(x => x.Lag!.Value) : null,
                LastDeliveredId = group.Select(x => x.LastDeliveredId).MaxBy(x => StreamEntryId.Parse(x))!,
                Consumers = group.SelectMany(x => x.Consumers).GroupBy(x => x.Name, StringComparer.Ordinal).Select(consumer => new RedisStreamsConsumerInfo
                {
                    Name = consumer.Key,
                    Pending = consumer.Sum(x => x.Pending),
                    Idle = consumer.Min(x => x.Idle)
                }).ToArray()
            }).ToArray();

        return new RedisStreamsStreamInfo
        {
            StreamKey = own.StreamKey,
            Name = own.Name,
            Kind = own.Kind,
            Exists = all.Count > 0,
            Length = all.Sum(x => x.Length),
            FirstEntryId = first?.FirstEntryId,
            FirstEntryTime = first?.FirstEntryTime,
            LastEntryId = last?.LastEntryId,
            LastEntryTime = last?.LastEntryTime,
            MemoryBytes = all.Count == 0 || all.Any(x => x.MemoryBytes == null) ? null : all.Sum(x => x.MemoryBytes),
            ScheduledCount = partitions.Prepend(own).Sum(x => x.ScheduledCount),
            NextScheduledTime = partitions.Prepend(own).Min(x => x.NextScheduledTime),
            Groups = groups,
            Partitions = partitions.OrderBy(x => x.PartitionCount).ThenBy(x => x.Partition).ToArray()
        };
    }

    /// <summary>
    /// Every event stream and queue stream under the bus's prefix, and every stream that has messages scheduled for it. A
    /// queue stream that is another queue's error or skipped stream (by the bus's name formatters) is described as such.
    /// </summary>
    public async Task<IReadOnlyList<RedisStreamsStreamInfo>> Overview()
    {
        var eventKeys = await _admin.ScanAllStreams(Keys.EventsPattern).ConfigureAwait(false);
        var queueKeys = await _admin.ScanAllStreams(Keys.QueuesPattern).ConfigureAwait(false);

        var queueNames = queueKeys.Select(x => Keys.QueueNameOf(x)).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var errorNames = queueNames.Select(Keys.ErrorQueueName).ToHashSet(StringComparer.Ordinal);
        var skippedNames = queueNames.Select(Keys.SkippedQueueName).ToHashSet(StringComparer.Ordinal);

        var described = new List<Task<RedisStreamsStreamInfo>>(eventKeys.Count + queueKeys.Count);

        // The partition streams of a type are listed under it, not as types of their own.
        var partitioned = new Dictionary<string, List<RedisKey>>(StringComparer.Ordinal);
        var partitionKeys = new HashSet<RedisKey>();
        foreach (var key in eventKeys)
        {
            if (Keys.EntityNameOf(key) is { } name && PartitionKeys.TryParse(name, out var type, out _, out _))
            {
                if (!partitioned.TryGetValue(type, out var partitions))
                    partitioned.Add(type, partitions = []);
                partitions.Add(key);
                partitionKeys.Add(key);
            }
        }

        foreach (var (type, partitions) in partitioned)
            described.Add(DescribeType(type, partitions));

        foreach (var key in eventKeys)
        {
            var entityName = Keys.EntityNameOf(key) ?? key.ToString();
            if (partitioned.ContainsKey(entityName) || partitionKeys.Contains(key))
                continue;

            described.Add(Describe(key, entityName, EventKind(entityName)));
        }

        foreach (var key in queueKeys)
        {
            var queueName = Keys.QueueNameOf(key) ?? key.ToString();
            var kind = errorNames.Contains(queueName) ? RedisStreamsStreamKind.Error
                : skippedNames.Contains(queueName) ? RedisStreamsStreamKind.Skipped
                : RedisStreamsStreamKind.Queue;

            described.Add(Describe(key, queueName, kind));
        }

        // A stream may have messages waiting to be appended before it has any entries.
        var known = eventKeys.Concat(queueKeys).Concat(partitioned.Keys.Select(Keys.Events)).ToHashSet();
        foreach (var key in await _delayed.GetStreams().ConfigureAwait(false))
        {
            if (!known.Add(key))
                continue;

            if (Keys.EntityNameOf(key) is { } entityName)
                described.Add(Describe(key, entityName, EventKind(entityName)));
            else if (Keys.QueueNameOf(key) is { } queueName)
                described.Add(Describe(key, queueName, RedisStreamsStreamKind.Queue));
        }

        var streams = (await Task.WhenAll(described).ConfigureAwait(false)).Where(x => x.Exists || x.ScheduledCount > 0);

        return streams.OrderBy(x => x.Kind).ThenBy(x => x.Name, StringComparer.Ordinal).ToArray();
    }
}
