namespace MassTransit.RedisStreams.Retention;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using History;
using Redis;
using StackExchange.Redis;


/// <summary>
/// Applies the retention policies to the bus's streams, a batch at a time, and removes what temporary endpoints that died
/// left on event streams: their consumer groups and subscriber registrations.
/// </summary>
sealed class StreamTrimmer
{
    /// <summary>The most entries the trim script reads to decide how to trim a stream by length.</summary>
    const int CountLimit = 1000;

    readonly IStreamAdmin _admin;
    readonly StreamKeys _keys;
    readonly IStreamTrimming _trimming;
    readonly ITypeRegistry _types;
    readonly TimeSpan _deadConsumerTimeout;
    readonly RetentionSettings _settings;
    RedisValue _eventCursor = "0";
    RedisValue _queueCursor = "0";
    bool _onQueues;

    public StreamTrimmer(RedisGateway redis, RetentionSettings settings, TimeSpan deadConsumerTimeout)
    {
        _admin = redis.Admin;
        _trimming = redis.Trimming;
        _types = redis.Types;
        _keys = redis.Keys;
        _settings = settings;
        _deadConsumerTimeout = deadConsumerTimeout;
    }

    StreamKeys Keys => _keys;

    /// <summary>
    /// Trims the next <paramref name="maxStreams" /> streams (event streams first, then queues), going on from where the last
    /// call stopped; after the last stream, the next call starts over.
    /// </summary>
    public async Task<TrimReport> TrimNext(int maxStreams, CancellationToken cancellationToken)
    {
        var report = new ReportBuilder();

        while (report.Examined < maxStreams)
        {
            cancellationToken.ThrowIfCancellationRequested();

            var cursor = _onQueues ? _queueCursor : _eventCursor;
            var (next, keys) = await _admin.ScanStreams(cursor, _onQueues ? Keys.QueuesPattern : Keys.EventsPattern, maxStreams)
                .ConfigureAwait(false);

            foreach (var key in keys)
                await TrimStream(key, report).ConfigureAwait(false);

            if (_onQueues)
                _queueCursor = next;
            else
                _eventCursor = next;

            if (next == "0")
            {
                // One kind done: the other next; both done: the pass is complete.
                _onQueues = !_onQueues;
                if (!_onQueues)
                    break;
            }
        }

        return report.Build();
    }

    /// <summary>Trims every stream once.</summary>
    public async Task<TrimReport> TrimAll(CancellationToken cancellationToken)
    {
        var report = new ReportBuilder();

        foreach (var pattern in new[] { Keys.EventsPattern, Keys.QueuesPattern })
        {
            foreach (var key in await _admin.ScanAllStreams(pattern).ConfigureAwait(false))
            {
                cancellationToken.ThrowIfCancellationRequested();
                await TrimStream(key, report).ConfigureAwait(false);
            }
        }

        return report.Build();
    }

    async Task TrimStream(RedisKey key, ReportBuilder report)
    {
        report.Examined++;

        RetentionPolicy policy;
        if (Keys.EntityNameOf(key) is { } entityName)
        {
            await RemoveGoneTemporaryGroups(key, report).ConfigureAwait(false);
            policy = _settings.ForEvents(entityName, StreamInspector.EventKind(entityName));
        }
        else
        {
            // A queue stream no group reads is an error or skipped stream, or a queue whose endpoint has not started yet:
            // nothing has acknowledged its entries, so the queue policy does not apply to it.
            var groups = await _admin.GetGroups(key).ConfigureAwait(false);
            policy = groups.Length > 0 ? _settings.Queues : _settings.DeadLetters;
        }

        if (policy.MaxEntries == null && policy.MaxAge == null)
            return;

        var (removed, keptFor, uncounted) = await _trimming.Trim(key, policy.MaxEntries, policy.MaxAge, CountLimit).ConfigureAwait(false);
        if (removed > 0)
            report.Removed[key.ToString()] = removed;
        if (keptFor != null)
            report.KeptFor[key.ToString()] = keptFor;

        if (uncounted)
        {
            LogContext.Debug?.Log("Not trimmed by length this time: {Stream} holds more than {Limit} entries that group {Group} still needs",
                key, CountLimit, keptFor);
        }
    }

    /// <summary>
    /// A temporary endpoint's queue stream expires once its process is gone; its groups on event streams, and its registrations
    /// as a subscriber, are left behind and would keep their entries forever. They go once the queue stream is gone and no
    /// consumer of the group has read for the dead consumer timeout.
    /// </summary>
    async Task RemoveGoneTemporaryGroups(RedisKey eventStream, ReportBuilder report)
    {
        var groups = await _admin.GetGroups(eventStream).ConfigureAwait(false);
        var subscribers = await _types.GetSubscribers(eventStream).ConfigureAwait(false);

        var names = groups.Select(x => x.Name).Concat(subscribers.Select(x => (string)x.Name!)).Distinct(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (await _admin.Exists(Keys.Queue(name)).ConfigureAwait(false))
                continue;

            if (groups.Any(x => x.Name == name))
            {
                var consumers = await _admin.GetConsumers(eventStream, name).ConfigureAwait(false);
                if (consumers.Any(x => x.IdleTimeInMilliseconds < _deadConsumerTimeout.TotalMilliseconds))
                    continue;

                await _admin.DestroyGroup(eventStream, name).ConfigureAwait(false);
            }

            await _types.UnregisterSubscriber(eventStream, name).ConfigureAwait(false);
            report.RemovedGroups.Add(eventStream.ToString() + "/" + name);

            LogContext.Info?.Log("Removed the group {Group} of a temporary endpoint that is gone from {Stream}", name, eventStream);
        }
    }


    sealed class ReportBuilder
    {
        public int Examined;
        public readonly Dictionary<string, long> Removed = new(StringComparer.Ordinal);
        public readonly Dictionary<string, string> KeptFor = new(StringComparer.Ordinal);
        public readonly List<string> RemovedGroups = [];

        public TrimReport Build() => new()
        {
            StreamsExamined = Examined,
            Removed = Removed,
            KeptForGroup = KeptFor,
            RemovedGroups = RemovedGroups
        };
    }
}
