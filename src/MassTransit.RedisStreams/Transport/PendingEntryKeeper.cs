namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;


/// <summary>What the readers of an endpoint's streams need of the endpoint: room, and a place to put what they read.</summary>
interface IEntrySink
{
    /// <summary>How many more entries the endpoint can take before it holds PrefetchCount.</summary>
    int FreeCapacity { get; }

    /// <summary>Waits until an entry the endpoint held is done, or a poll interval passes.</summary>
    Task WaitForCapacity(CancellationToken cancellationToken);

    /// <summary>The entries the endpoint holds now: read, not yet acknowledged.</summary>
    IReadOnlyList<EntryKey> GetHeldEntries();

    /// <summary>Hands an entry to the endpoint, with its delivery count; an entry it holds already is ignored.</summary>
    void Enqueue(ReceiveStream stream, StreamEntry entry, int deliveryCount);
}


/// <summary>
/// Looks after an endpoint's pending entries (read, not acknowledged) in every stream it reads:
/// <list type="bullet">
/// <item>keeps the entries this instance holds alive (XCLAIM to itself, JUSTID, IDLE 0, every third of the claim timeout),
/// so a handler that runs longer than the claim timeout never has its entry taken by another instance;</item>
/// <item>claims entries idle longer than the claim timeout — those of a crashed instance, or its own that failed — with
/// XAUTOCLAIM, carrying the cursor forward so that a pending list of any length is walked to its end;</item>
/// <item>counts and drops pending entries whose stream entry was deleted or trimmed, which XAUTOCLAIM reports;</item>
/// <item>deletes consumers idle past the dead consumer timeout, only when they have nothing pending.</item>
/// </list>
/// </summary>
sealed class PendingEntryKeeper
{
    const int ClaimBatch = 100;
    const int MaxClaimRoundsPerPass = 50;
    static readonly RedisValue StartOfPendingList = "0-0";
    static readonly TimeSpan ClaimRetryDelay = TimeSpan.FromMilliseconds(200);

    readonly RedisStreamsBroker _broker;
    readonly AsyncSignal _claimRequested;
    readonly Dictionary<RedisKey, RedisValue> _cursors;
    readonly IEntrySink _sink;
    readonly CancellationToken _stopping;
    readonly EndpointStreams _streams;
    long _goneEntries;

    public PendingEntryKeeper(RedisStreamsBroker broker, EndpointStreams streams, IEntrySink sink, CancellationToken stopping)
    {
        _broker = broker;
        _streams = streams;
        _sink = sink;
        _stopping = stopping;
        _claimRequested = new AsyncSignal();
        _cursors = new Dictionary<RedisKey, RedisValue>();
    }

    /// <summary>Pending entries found without a stream entry behind them, acknowledged and dropped.</summary>
    public long GoneEntries => Interlocked.Read(ref _goneEntries);

    TimeSpan ClaimTimeout => _broker.Settings.ClaimTimeout;

    /// <summary>Another instance released entries: claim now rather than at the next interval.</summary>
    public void RequestClaim() => _claimRequested.Set();

    /// <summary>Counts pending entries whose stream entry is gone.</summary>
    public void CountGone(RedisKey stream, int count)
    {
        if (count <= 0)
            return;

        Interlocked.Add(ref _goneEntries, count);
        LogContext.Warning?.Log("{Count} pending entries of {Stream} had been deleted or trimmed from the stream; acknowledged and dropped", count,
            stream);
    }

    public async Task Run()
    {
        var keepAliveInterval = ClaimTimeout / 3;
        var claimInterval = ClaimTimeout / 2;
        var cleanupInterval = TimeSpan.FromTicks(Math.Min(_broker.Settings.DeadConsumerTimeout.Ticks / 2, TimeSpan.FromMinutes(5).Ticks));

        var now = DateTime.UtcNow;
        var nextKeepAlive = now + keepAliveInterval;
        var nextClaim = now;
        var nextCleanup = now + cleanupInterval;

        while (!_stopping.IsCancellationRequested)
        {
            var next = nextKeepAlive < nextClaim ? nextKeepAlive : nextClaim;
            if (nextCleanup < next)
                next = nextCleanup;

            var wait = next - DateTime.UtcNow;

            bool requested;
            try
            {
                requested = wait > TimeSpan.Zero && await _claimRequested.Wait(wait, _stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            now = DateTime.UtcNow;
            try
            {
                if (now >= nextKeepAlive)
                {
                    await KeepAlive().ConfigureAwait(false);
                    nextKeepAlive = now + keepAliveInterval;
                }

                if (requested || now >= nextClaim)
                {
                    // A pass cut short because the endpoint was full is finished as soon as there is room, not an interval later:
                    // released entries and those of a crashed instance should not wait behind a busy stream.
                    nextClaim = await ClaimIdle().ConfigureAwait(false) ? now + claimInterval : now + ClaimRetryDelay;
                }

                if (now >= nextCleanup)
                {
                    await RemoveDeadConsumers().ConfigureAwait(false);
                    nextCleanup = now + cleanupInterval;
                }
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException or InvalidOperationException)
            {
                // The read loop reports outages; this tries again at the next interval.
                LogContext.Debug?.Log(exception, "Pending entry maintenance failed, retrying: {Group}", _streams.Group);
            }
        }
    }

    async Task KeepAlive()
    {
        var held = _sink.GetHeldEntries();
        if (held.Count == 0)
            return;

        var consumer = _broker.ConsumerName;
        foreach (var byStream in held.GroupBy(x => x.Stream))
        {
            var ids = byStream.Select(x => x.Id).ToArray();
            var lost = await _broker.Client.Touch(byStream.Key, _streams.Group, consumer, ids, TimeSpan.Zero).ConfigureAwait(false);

            if (lost.Length > 0)
                LogContext.Debug?.Log("{Count} entries of {Stream} held by {Consumer} were acknowledged or claimed meanwhile", lost.Length, byStream.Key, consumer);
        }
    }

    /// <summary>Claims what has been idle too long in every stream; false when the endpoint filled up before the end.</summary>
    async Task<bool> ClaimIdle()
    {
        var consumer = _broker.ConsumerName;
        var complete = true;

        foreach (var stream in _streams.Streams)
        {
            var cursor = _cursors.TryGetValue(stream.Key, out var saved) ? saved : StartOfPendingList;

            for (var round = 0;; round++)
            {
                if (round == MaxClaimRoundsPerPass)
                {
                    // A long pending list: carry on from the cursor shortly, letting the other streams and keep-alive have a turn.
                    complete = false;
                    break;
                }

                var capacity = _sink.FreeCapacity;
                if (capacity <= 0)
                {
                    complete = false;
                    break;
                }

                var result = await _broker.Client.ClaimIdle(stream.Key, _streams.Group, consumer, ClaimTimeout, cursor, Math.Min(capacity, ClaimBatch))
                    .ConfigureAwait(false);

                CountGone(stream.Key, result.DeletedIds?.Length ?? 0);

                var claimed = result.ClaimedEntries ?? [];
                if (claimed.Length > 0)
                {
                    var counts = await GetDeliveryCounts(stream, claimed).ConfigureAwait(false);
                    foreach (var entry in claimed)
                    {
                        if (entry.IsNull || entry.Values is not { Length: > 0 })
                            continue;

                        _sink.Enqueue(stream, entry, counts.TryGetValue(entry.Id, out var count) ? count : 1);
                    }

                    LogContext.Info?.Log("Claimed {Count} entries of {Stream} idle longer than {ClaimTimeout}", claimed.Length, stream.Key, ClaimTimeout);
                }

                cursor = result.NextStartId;
                if (cursor.IsNullOrEmpty || cursor == StartOfPendingList)
                {
                    cursor = StartOfPendingList;
                    break;
                }
            }

            _cursors[stream.Key] = cursor;
        }

        return complete;
    }

    /// <summary>
    /// The delivery counts of entries this consumer just took from the pending list (XPENDING over their range).
    /// </summary>
    public async Task<Dictionary<RedisValue, int>> GetDeliveryCounts(ReceiveStream stream, IReadOnlyList<StreamEntry> entries)
    {
        var counts = new Dictionary<RedisValue, int>(entries.Count);
        if (entries.Count == 0)
            return counts;

        var pending = await _broker.Client.GetPending(stream.Key, _streams.Group, _broker.ConsumerName, entries[0].Id, entries[^1].Id,
            entries.Count + _sink.GetHeldEntries().Count).ConfigureAwait(false);

        foreach (var info in pending)
            counts[info.MessageId] = info.DeliveryCount;

        return counts;
    }

    /// <summary>
    /// Hands entries this consumer read but never started to the others at once: their idle time is set past the claim
    /// timeout and the other readers are told to claim, so another instance takes them now. With no other instance, this
    /// consumer reads them first at its next start.
    /// </summary>
    public async Task Release(IReadOnlyList<EntryKey> entries)
    {
        if (entries.Count == 0 || _broker.Identity.CurrentName is not { } consumer)
            return;

        foreach (var byStream in entries.GroupBy(x => x.Stream))
        {
            var ids = byStream.Select(x => x.Id).ToArray();
            try
            {
                await _broker.Client.Touch(byStream.Key, _streams.Group, consumer, ids, ClaimTimeout * 2).ConfigureAwait(false);
                await _broker.Client.AnnounceReleased(byStream.Key).ConfigureAwait(false);

                LogContext.Debug?.Log("Released {Count} unstarted entries of {Stream} for other instances", ids.Length, byStream.Key);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                LogContext.Warning?.Log(exception, "Releasing {Count} unstarted entries of {Stream} failed; they are claimed after the claim timeout",
                    ids.Length, byStream.Key);
            }
        }
    }

    async Task RemoveDeadConsumers()
    {
        var consumer = _broker.ConsumerName;

        foreach (var stream in _streams.Streams)
        {
            var removed = await _broker.Client.RemoveIdleConsumers(stream.Key, _streams.Group, _broker.Settings.DeadConsumerTimeout, null, consumer)
                .ConfigureAwait(false);

            if (removed.Length > 0)
                LogContext.Info?.Log("Removed consumers idle longer than {Timeout} with nothing pending from {Stream} {Group}: {Consumers}",
                    _broker.Settings.DeadConsumerTimeout, stream.Key, _streams.Group, string.Join(", ", removed));
        }
    }
}
