namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;


/// <summary>
/// This instance's side of its endpoint's pending lists (entries read and not acknowledged), in every stream the endpoint
/// reads: it reads back its own pending entries, claims those left idle by others, reads their delivery counts, keeps the
/// entries it holds from being claimed, and hands back the ones it will not start.
/// </summary>
sealed class PendingEntries
{
    const int PageSize = 100;
    const int ClaimBatch = 100;
    const int MaxClaimRoundsPerPass = 50;
    static readonly RedisValue StartOfPendingList = "0-0";

    /// <summary>
    /// How long an entry of a dead consumer must have been untouched to be claimed from it. Its instance touched it last before
    /// it died, at least the lease time minus a renewal interval before the death is noticed; an entry touched more recently
    /// was just claimed by another instance, or read by one that took the name again.
    /// </summary>
    static readonly TimeSpan DeadEntryMinIdle = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The delivery count of an entry taken from the pending list that XPENDING no longer lists, because a late XACK
    /// acknowledged it meanwhile: it was delivered before, so this is at least its second delivery.
    /// </summary>
    const int RedeliveryAtLeast = 2;

    readonly EntryBuffer _buffer;
    readonly RedisStreamsBusContext _bus;
    readonly Dictionary<RedisKey, RedisValue> _claimCursors;
    readonly EndpointStreams _streams;
    long _goneEntries;

    public PendingEntries(RedisStreamsBusContext bus, EndpointStreams streams, EntryBuffer buffer)
    {
        _bus = bus;
        _streams = streams;
        _buffer = buffer;
        _claimCursors = new Dictionary<RedisKey, RedisValue>();
    }

    /// <summary>Pending entries found without a stream entry behind them, acknowledged and dropped.</summary>
    public long GoneEntries => Interlocked.Read(ref _goneEntries);

    TimeSpan ClaimTimeout => _bus.Settings.ClaimTimeout;

    /// <summary>
    /// Reads the entries this consumer was given earlier but never acknowledged (XREADGROUP with an ID) — after a restart under
    /// the same consumer name, or after a connection drop swallowed an XREADGROUP reply — into the buffer, oldest first across
    /// all streams, waiting for room as it goes. Pages of every stream are merged by entry ID, so they keep the order they were
    /// appended in.
    /// </summary>
    public async Task ReadOwn(CancellationToken cancellationToken)
    {
        var streams = _streams.Streams;
        var pages = new Queue<(StreamEntry Entry, int DeliveryCount)>[streams.Length];
        var positions = new RedisValue[streams.Length];
        var exhausted = new bool[streams.Length];
        for (var i = 0; i < streams.Length; i++)
        {
            pages[i] = new Queue<(StreamEntry, int)>();
            positions[i] = "0";
        }

        while (true)
        {
            for (var i = 0; i < streams.Length; i++)
            {
                if (pages[i].Count == 0 && !exhausted[i])
                    exhausted[i] = !await ReadOwnPage(streams[i], positions, i, pages[i]).ConfigureAwait(false);
            }

            var next = -1;
            for (var i = 0; i < streams.Length; i++)
            {
                if (pages[i].Count > 0 && (next < 0
                    || StreamEntryId.Parse(pages[i].Peek().Entry.Id) < StreamEntryId.Parse(pages[next].Peek().Entry.Id)))
                    next = i;
            }

            if (next < 0)
                return;

            while (_buffer.FreeCapacity <= 0)
                await _buffer.WaitForCapacity(cancellationToken).ConfigureAwait(false);

            var (entry, deliveryCount) = pages[next].Dequeue();
            _buffer.Add(streams[next], entry, deliveryCount);
        }
    }

    /// <summary>Reads the next page of own pending entries of one stream; false when there were none left.</summary>
    async Task<bool> ReadOwnPage(ReceiveStream stream, RedisValue[] positions, int index, Queue<(StreamEntry, int)> page)
    {
        var entries = await _bus.Client.ReadPending(stream.Key, _streams.Group, _bus.ConsumerName, positions[index], PageSize).ConfigureAwait(false);
        if (entries.Length == 0)
            return false;

        positions[index] = entries[^1].Id;

        var gone = new List<RedisValue>();
        var present = new List<StreamEntry>(entries.Length);
        foreach (var entry in entries)
        {
            // An entry deleted or trimmed while pending comes back without fields; there is nothing left to deliver.
            if (entry.Values is { Length: > 0 })
                present.Add(entry);
            else
                gone.Add(entry.Id);
        }

        if (gone.Count > 0)
        {
            await _bus.Client.Acknowledge(stream.Key, _streams.Group, gone.ToArray()).ConfigureAwait(false);
            CountGone(stream.Key, gone.Count);
        }

        // Reading its own pending entries counted a delivery; XPENDING tells how many there were.
        var counts = await GetDeliveryCounts(stream, present).ConfigureAwait(false);
        foreach (var entry in present)
            page.Enqueue((entry, counts.TryGetValue(entry.Id, out var count) ? count : RedeliveryAtLeast));

        return true;
    }

    /// <summary>
    /// Claims what has been idle longer than the claim timeout in every stream (XAUTOCLAIM) — the entries of a crashed
    /// instance, and failed deliveries — as far as the buffer has room. The cursor is carried from pass to pass, so a pending
    /// list of any length is walked to its end.
    /// </summary>
    /// <returns>False when the pass stopped early (the buffer filled up, or a long pending list): continue soon.</returns>
    public async Task<bool> ClaimIdle()
    {
        var consumer = _bus.ConsumerName;
        var complete = true;

        foreach (var stream in _streams.Streams)
        {
            var cursor = _claimCursors.TryGetValue(stream.Key, out var saved) ? saved : StartOfPendingList;

            for (var round = 0;; round++)
            {
                var capacity = _buffer.FreeCapacity;
                if (round == MaxClaimRoundsPerPass || capacity <= 0)
                {
                    complete = false;
                    break;
                }

                var result = await _bus.Client.ClaimIdle(stream.Key, _streams.Group, consumer, ClaimTimeout, cursor, Math.Min(capacity, ClaimBatch))
                    .ConfigureAwait(false);

                CountGone(stream.Key, result.DeletedIds?.Length ?? 0);

                var claimed = (result.ClaimedEntries ?? []).Where(x => !x.IsNull && x.Values is { Length: > 0 }).ToList();
                if (claimed.Count > 0)
                {
                    var counts = await GetDeliveryCounts(stream, claimed).ConfigureAwait(false);
                    foreach (var entry in claimed)
                        _buffer.Add(stream, entry, counts.TryGetValue(entry.Id, out var count) ? count : RedeliveryAtLeast);

                    LogContext.Info?.Log("Claimed {Count} entries of {Stream} idle longer than {ClaimTimeout}", claimed.Count, stream.Key, ClaimTimeout);
                }

                cursor = result.NextStartId;
                if (cursor.IsNullOrEmpty || cursor == StartOfPendingList)
                {
                    cursor = StartOfPendingList;
                    break;
                }
            }

            _claimCursors[stream.Key] = cursor;
        }

        return complete;
    }

    /// <summary>
    /// Claims the pending entries of a consumer whose instance died (its name lease ran out), in every stream, without waiting
    /// for the claim timeout: XPENDING for that consumer, then XCLAIM of what it lists. Both take only entries idle at least
    /// <see cref="DeadEntryMinIdle" />, so an entry that another instance claimed meanwhile, or that an instance which took the
    /// name again has just read, is left alone; anything left over is claimed after the claim timeout as before.
    /// </summary>
    /// <returns>False when the buffer filled up before everything was claimed: continue soon.</returns>
    public async Task<bool> ClaimFromDead(string deadConsumer)
    {
        var consumer = _bus.ConsumerName;
        if (deadConsumer == consumer)
            return true;

        var claimedTotal = 0;
        foreach (var stream in _streams.Streams)
        {
            for (var round = 0; round < MaxClaimRoundsPerPass; round++)
            {
                var capacity = _buffer.FreeCapacity;
                if (capacity <= 0)
                    return false;

                var count = Math.Min(capacity, ClaimBatch);
                var pending = await _bus.Client.GetIdlePending(stream.Key, _streams.Group, deadConsumer, DeadEntryMinIdle, count).ConfigureAwait(false);
                if (pending.Length == 0)
                    break;

                var ids = Array.ConvertAll(pending, x => x.MessageId);
                var entries = await _bus.Client.Claim(stream.Key, _streams.Group, consumer, DeadEntryMinIdle, ids).ConfigureAwait(false);

                // XCLAIM counted a delivery; XPENDING told how many there were before it.
                var counts = pending.ToDictionary(x => x.MessageId, x => x.DeliveryCount + 1);
                foreach (var entry in entries)
                {
                    if (!entry.IsNull && entry.Values is { Length: > 0 })
                    {
                        _buffer.Add(stream, entry, counts.TryGetValue(entry.Id, out var deliveries) ? deliveries : RedeliveryAtLeast);
                        claimedTotal++;
                    }
                }

                if (pending.Length < count)
                    break;
            }
        }

        if (claimedTotal > 0)
            LogContext.Info?.Log("Claimed {Count} entries of {Group} from {DeadConsumer}, whose instance died", claimedTotal, _streams.Group, deadConsumer);

        return true;
    }

    /// <summary>
    /// Keeps the entries the buffer holds from being claimed by other instances, however long their handlers run: their idle
    /// time is set back to zero (XCLAIM to this consumer, JUSTID, so the delivery count stays).
    /// </summary>
    public async Task KeepAlive()
    {
        var held = _buffer.GetHeld();
        if (held.Count == 0)
            return;

        var consumer = _bus.ConsumerName;
        foreach (var byStream in held.GroupBy(x => x.Stream))
        {
            var ids = byStream.Select(x => x.Id).ToArray();
            var lost = await _bus.Client.SetIdleTime(byStream.Key, _streams.Group, consumer, ids, TimeSpan.Zero).ConfigureAwait(false);

            if (lost.Length > 0)
                LogContext.Debug?.Log("{Count} entries of {Stream} held by {Consumer} were acknowledged or claimed meanwhile", lost.Length, byStream.Key, consumer);
        }
    }

    /// <summary>
    /// Hands entries this consumer read but never started to the others at once: their idle time is set past the claim
    /// timeout and the other readers are told to claim, so another instance takes them now. With no other instance, this
    /// consumer reads them first at its next start.
    /// </summary>
    public async Task Release(IReadOnlyList<EntryKey> entries)
    {
        if (entries.Count == 0 || _bus.Identity.CurrentName is not { } consumer)
            return;

        foreach (var byStream in entries.GroupBy(x => x.Stream))
        {
            var ids = byStream.Select(x => x.Id).ToArray();
            try
            {
                await _bus.Client.SetIdleTime(byStream.Key, _streams.Group, consumer, ids, ClaimTimeout * 2).ConfigureAwait(false);
                await _bus.Client.AnnounceReleased(byStream.Key).ConfigureAwait(false);

                LogContext.Debug?.Log("Released {Count} unstarted entries of {Stream} for other instances", ids.Length, byStream.Key);
            }
            catch (Exception exception) when (TransientFailures.IsRedisFailure(exception))
            {
                LogContext.Warning?.Log(exception, "Releasing {Count} unstarted entries of {Stream} failed; they are claimed after the claim timeout",
                    ids.Length, byStream.Key);
            }
        }
    }

    /// <summary>
    /// The delivery counts of entries this consumer just took from the pending list (XPENDING over their range).
    /// </summary>
    async Task<Dictionary<RedisValue, int>> GetDeliveryCounts(ReceiveStream stream, List<StreamEntry> entries)
    {
        var counts = new Dictionary<RedisValue, int>(entries.Count);
        if (entries.Count == 0)
            return counts;

        // Entries this consumer holds already may lie in the same range.
        var pending = await _bus.Client.GetPending(stream.Key, _streams.Group, _bus.ConsumerName, entries[0].Id, entries[^1].Id,
            entries.Count + _buffer.GetHeld().Count).ConfigureAwait(false);

        foreach (var info in pending)
            counts[info.MessageId] = info.DeliveryCount;

        return counts;
    }

    void CountGone(RedisKey stream, int count)
    {
        if (count <= 0)
            return;

        Interlocked.Add(ref _goneEntries, count);
        LogContext.Warning?.Log("{Count} pending entries of {Stream} had been deleted or trimmed from the stream; acknowledged and dropped", count,
            stream);
    }
}
