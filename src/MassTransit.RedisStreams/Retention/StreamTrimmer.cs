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
/// Applies the retention policies to the bus's streams, a batch at a time; removes what endpoints that are gone left on event
/// streams (their consumer groups and subscriber registrations); and, each time a round of every stream completes, the host
/// records nothing names any more and the streams in <c>delayed-streams</c> nothing waits for.
/// </summary>
sealed class StreamTrimmer
{
    /// <summary>The most entries the trim script reads to decide how to trim a stream by length.</summary>
    const int CountLimit = 1000;

    readonly IStreamAdmin _admin;
    readonly StreamKeys _keys;
    readonly IStreamTrimming _trimming;
    readonly ITypeRegistry _types;
    readonly ILeases _leases;
    readonly RetentionSettings _settings;
    readonly HostRecordSweep _sweep;
    readonly StreamArchiver _archiver;
    readonly Dictionary<string, DateTimeOffset> _inactiveSince = new(StringComparer.Ordinal);
    readonly TimeProvider _time;

    // One pass at a time: the background pass and a Trim() on demand share what the passes remember.
    readonly object _passLock = new();
    Task _lastPass = Task.CompletedTask;
    HostRecordSweep.Round? _round;
    RedisValue _eventCursor = "0";
    RedisValue _queueCursor = "0";
    bool _onQueues;

    public StreamTrimmer(RedisGateway redis, RetentionSettings settings, TimeProvider? time = null)
    {
        _admin = redis.Admin;
        _trimming = redis.Trimming;
        _types = redis.Types;
        _leases = redis.Leases;
        _keys = redis.Keys;
        _settings = settings;
        _time = time ?? TimeProvider.System;
        _sweep = new HostRecordSweep(redis, settings.HostRecordHold);
        _archiver = new StreamArchiver(redis);
    }

    StreamKeys Keys => _keys;

    /// <summary>
    /// Trims the next <paramref name="maxStreams" /> streams (event streams first, then queues), going on from where the last
    /// call stopped; after the last stream, the next call starts over.
    /// </summary>
    public Task<RedisStreamsTrimReport> TrimNext(int maxStreams, CancellationToken cancellationToken) =>
        OneAtATime(() => TrimNextAlone(maxStreams, cancellationToken));

    /// <summary>Trims every stream once.</summary>
    public Task<RedisStreamsTrimReport> TrimAll(CancellationToken cancellationToken) => OneAtATime(() => TrimAllAlone(cancellationToken));

    /// <summary>
    /// What <see cref="TrimAll" /> would do now, changing nothing: per stream what its policy would remove and which group holds
    /// more back, the groups of gone endpoints it would remove, and what the end of the round would remove.
    /// </summary>
    public Task<TrimPlan> PlanAll(CancellationToken cancellationToken) => OneAtATime(() => PlanAllAlone(cancellationToken));

    /// <summary>Runs a pass after the one before it has ended, however it ended.</summary>
    Task<T> OneAtATime<T>(Func<Task<T>> pass)
    {
        lock (_passLock)
        {
            var next = _lastPass.ContinueWith(_ => pass(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
            _lastPass = next;
            return next;
        }
    }

    async Task<RedisStreamsTrimReport> TrimNextAlone(int maxStreams, CancellationToken cancellationToken)
    {
        var report = new ReportBuilder();
        // A round begins with the scans: it must see every stream, so one taken up in the middle waits for the next.
        if (_round == null && !_onQueues && _eventCursor == "0")
            _round = await _sweep.Begin().ConfigureAwait(false);
        report.Round = _round;

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
                {
                    // Every stream was looked at since the round began: what nothing names or waits for can go.
                    var round = _round;
                    _round = null;
                    if (round != null)
                        await Finish(round, report).ConfigureAwait(false);
                    break;
                }
            }
        }

        return report.Build();
    }

    async Task<RedisStreamsTrimReport> TrimAllAlone(CancellationToken cancellationToken)
    {
        var report = new ReportBuilder { Round = await _sweep.Begin().ConfigureAwait(false) };

        foreach (var pattern in new[] { Keys.EventsPattern, Keys.QueuesPattern })
        {
            foreach (var key in await _admin.ScanAllStreams(pattern).ConfigureAwait(false))
            {
                cancellationToken.ThrowIfCancellationRequested();
                await TrimStream(key, report).ConfigureAwait(false);
            }
        }

        await Finish(report.Round, report).ConfigureAwait(false);
        return report.Build();
    }

    async Task<TrimPlan> PlanAllAlone(CancellationToken cancellationToken)
    {
        var report = new ReportBuilder { Round = await _sweep.Begin().ConfigureAwait(false), Planning = true };

        foreach (var pattern in new[] { Keys.EventsPattern, Keys.QueuesPattern })
        {
            foreach (var key in await _admin.ScanAllStreams(pattern).ConfigureAwait(false))
            {
                cancellationToken.ThrowIfCancellationRequested();
                await TrimStream(key, report).ConfigureAwait(false);
            }
        }

        var (delayedStreams, hostRecords, unheld) = await _sweep.Plan(report.Round).ConfigureAwait(false);
        return new TrimPlan
        {
            StreamsExamined = report.Examined,
            Streams = report.Plans,
            RemovedGroups = report.RemovedGroups,
            RemovedHostRecords = hostRecords,
            UnheldHostRecords = unheld,
            RemovedDelayedStreams = delayedStreams
        };
    }

    async Task Finish(HostRecordSweep.Round round, ReportBuilder report)
    {
        var (delayedStreams, hostRecords) = await _sweep.Finish(round).ConfigureAwait(false);
        report.RemovedDelayedStreams = delayedStreams;
        report.RemovedHostRecords = hostRecords;
    }

    async Task TrimStream(RedisKey key, ReportBuilder report)
    {
        report.Examined++;
        report.Round?.Saw(key);

        RedisStreamsRetentionPolicy policy;
        IRedisStreamsArchive? archive = null;
        if (Keys.EntityNameOf(key) is { } entityName)
        {
            await RemoveGoneGroups(key, report).ConfigureAwait(false);
            var kind = StreamInspector.EventKind(entityName);
            policy = _settings.ForEvents(entityName, kind);
            archive = _settings.ArchiveFor(entityName, kind);
        }
        else
        {
            // A queue stream no group reads is an error or skipped stream, or a queue whose endpoint has not started yet:
            // nothing has acknowledged its entries, so the queue policy does not apply to it.
            var groups = await _admin.GetGroups(key).ConfigureAwait(false);
            policy = groups.Length > 0 ? _settings.Queues : _settings.DeadLetters;
        }

        if (policy.MaxEntries != null || policy.MaxAge != null)
            await Trim(key, policy, archive, report).ConfigureAwait(false);
    }

    async Task Trim(RedisKey key, RedisStreamsRetentionPolicy policy, IRedisStreamsArchive? archive, ReportBuilder report)
    {
        if (report.Planning)
        {
            var plan = await _trimming.Plan(key, policy.MaxEntries, policy.MaxAge, CountLimit).ConfigureAwait(false);
            if (plan.Removed > 0 || plan.KeptFor != null || plan.Uncounted)
                report.Plans.Add(new TrimPlan.StreamPlan(key.ToString(), policy, plan));
            return;
        }

        if (archive != null)
        {
            long archived, trimmed;
            string? kept;
            try
            {
                (archived, trimmed, kept) = await _archiver.Archive(key, archive, policy, CountLimit, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception exception) when (!TransientFailures.IsRedisFailure(exception) && exception is not OperationCanceledException)
            {
                // The archive failed (a full disk, a bucket out of reach): nothing it did not store is removed, and the other
                // streams are trimmed; the next pass tries again.
                LogContext.Warning?.Log(exception, "Archiving {Stream} to {Archive} failed; nothing more is removed from it this pass", key,
                    archive.Location);
                report.ArchiveFailures[key.ToString()] = exception.Message;
                return;
            }

            if (archived > 0)
                report.Archived[key.ToString()] = archived;
            if (trimmed > 0)
                report.Removed[key.ToString()] = trimmed;
            if (kept != null)
                report.KeptFor[key.ToString()] = kept;
            return;
        }

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
    /// consumer of the group has read for <see cref="RetentionSettings.TemporaryGroupExpiry" />. With
    /// <see cref="RetentionSettings.InactiveGroupExpiry" /> set, a durable endpoint's groups go too once none of its consumers,
    /// on the event stream or on its queue, has read for that long.
    /// </summary>
    async Task RemoveGoneGroups(RedisKey eventStream, ReportBuilder report)
    {
        var groups = await _admin.GetGroups(eventStream).ConfigureAwait(false);
        var subscribers = await _types.GetSubscribers(eventStream).ConfigureAwait(false);

        var names = groups.Select(x => x.Name).Concat(subscribers.Select(x => (string)x.Name!)).Distinct(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var queue = Keys.Queue(name);
            var temporary = !await _admin.Exists(queue).ConfigureAwait(false);
            var hasGroup = groups.Any(x => x.Name == name);

            if (!temporary && (_settings.InactiveGroupExpiry == null || !hasGroup))
                continue;

            if (hasGroup && !await IsGone(eventStream, name, queue, temporary, report).ConfigureAwait(false))
                continue;

            if (report.Planning)
            {
                report.RemovedGroups.Add(eventStream.ToString() + "/" + name);
                continue;
            }

            if (hasGroup)
                await _admin.DestroyGroup(eventStream, name).ConfigureAwait(false);

            await _types.UnregisterSubscriber(eventStream, name).ConfigureAwait(false);
            _inactiveSince.Remove(eventStream.ToString() + "/" + name);
            report.RemovedGroups.Add(eventStream.ToString() + "/" + name);

            LogContext.Info?.Log(temporary
                ? "Removed the group {Group} of a temporary endpoint that is gone from {Stream}"
                : "Removed the group {Group} of an endpoint inactive for longer than the InactiveGroupExpiry from {Stream}", name, eventStream);
        }
    }

    /// <summary>
    /// Whether the endpoint <paramref name="group" /> is gone for the expiry that applies: none of its consumers is the leased
    /// name of a running instance (an idle endpoint waits for wake-ups without reading, so idle time alone does not tell), and
    /// none has read for the expiry. A durable endpoint whose consumers were all deleted (it stopped) shows no idle time: it
    /// counts from the first pass of this instance that saw it so.
    /// </summary>
    async Task<bool> IsGone(RedisKey eventStream, string group, RedisKey queue, bool temporary, ReportBuilder report)
    {
        var expiry = temporary ? _settings.TemporaryGroupExpiry : _settings.InactiveGroupExpiry!.Value;

        var consumers = await _admin.GetConsumers(eventStream, group).ConfigureAwait(false);
        if (!temporary)
        {
            var onQueue = (await _admin.GetGroups(queue).ConfigureAwait(false)).Any(x => x.Name == group)
                ? await _admin.GetConsumers(queue, group).ConfigureAwait(false)
                : [];
            consumers = [..consumers, ..onQueue];
        }

        var key = eventStream.ToString() + "/" + group;
        report.LiveNames ??= await _leases.GetLiveNames().ConfigureAwait(false);
        var live = report.LiveNames;
        if (consumers.Any(x => live.Contains(x.Name) || x.IdleTimeInMilliseconds < expiry.TotalMilliseconds))
        {
            if (!report.Planning)
                _inactiveSince.Remove(key);
            return false;
        }

        if (temporary || consumers.Length > 0)
            return true;

        // A plan counts from now where no pass saw the group so before, and remembers nothing.
        var now = _time.GetUtcNow();
        if (report.Planning)
            return now - (_inactiveSince.TryGetValue(key, out var seen) ? seen : now) >= expiry;

        if (!_inactiveSince.TryGetValue(key, out var since))
        {
            _inactiveSince[key] = since = now;
            if (_inactiveSince.Count > 100_000)
                _inactiveSince.Clear();
        }

        return now - since >= expiry;
    }


    sealed class ReportBuilder
    {
        public int Examined;
        public readonly Dictionary<string, long> Removed = new(StringComparer.Ordinal);
        public readonly Dictionary<string, long> Archived = new(StringComparer.Ordinal);
        public readonly Dictionary<string, string> ArchiveFailures = new(StringComparer.Ordinal);
        public readonly Dictionary<string, string> KeptFor = new(StringComparer.Ordinal);
        public readonly List<string> RemovedGroups = [];
        public HostRecordSweep.Round? Round;
        public HashSet<string>? LiveNames;
        public int RemovedHostRecords;
        public int RemovedDelayedStreams;

        /// <summary>A dry run: nothing is changed, and <see cref="Plans" /> says what would be.</summary>
        public bool Planning;
        public readonly List<TrimPlan.StreamPlan> Plans = [];

        public RedisStreamsTrimReport Build() => new()
        {
            StreamsExamined = Examined,
            Removed = Removed,
            Archived = Archived,
            ArchiveFailures = ArchiveFailures,
            KeptForGroup = KeptFor,
            RemovedGroups = RemovedGroups,
            RemovedHostRecords = RemovedHostRecords,
            RemovedDelayedStreams = RemovedDelayedStreams
        };
    }
}
