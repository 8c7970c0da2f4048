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
        foreach (var key in eventKeys)
        {
            var entityName = Keys.EntityNameOf(key) ?? key.ToString();
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
        var known = eventKeys.Concat(queueKeys).ToHashSet();
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
