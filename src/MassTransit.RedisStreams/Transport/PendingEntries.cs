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
/// reads: it reads back its own pending entries, claims those of dead instances and those left idle, reads their delivery
/// counts, keeps the entries it holds from being claimed, checks the ones it read before its lease may have lapsed, and hands
/// back the ones it will not start.
/// </summary>
sealed class PendingEntries
{
    const int PageSize = 100;
    const int ClaimBatch = 100;
    const int MaxClaimRoundsPerPass = 50;
    static readonly RedisValue StartOfPendingList = "0-0";

    /// <summary>
    /// How long an entry of a dead consumer must at least have been untouched to be claimed from it, however recently the death
    /// was noticed. Its instance touched it last before it died, at least the lease time minus a renewal interval before the
    /// death is noticed; an entry touched more recently was just claimed by another instance.
    /// </summary>
    static readonly TimeSpan DeadEntryMinIdle = TimeSpan.FromSeconds(1);

    readonly Acknowledger _acknowledger;
    readonly EntryBuffer _buffer;
    readonly Dictionary<RedisKey, RedisValue> _claimCursors;
    readonly TimeSpan _claimTimeout;
    readonly Func<string?> _consumer;
    readonly IGroupReads _groups;
    readonly IPendingLists _pending;
    readonly LeaseStanding _standing;
    readonly IEndpointStreams _streams;
    readonly IWakeChannels _wake;

    public PendingEntries(IGroupReads groups, IPendingLists pending, IWakeChannels wake, IEndpointStreams streams, EntryBuffer buffer,
        Acknowledger acknowledger, LeaseStanding standing, Func<string?> consumer, TimeSpan claimTimeout)
    {
        _groups = groups;
        _pending = pending;
        _wake = wake;
        _streams = streams;
        _buffer = buffer;
        _acknowledger = acknowledger;
        _standing = standing;
        _consumer = consumer;
        _claimTimeout = claimTimeout;
        _claimCursors = new Dictionary<RedisKey, RedisValue>();
    }

    string Consumer => _consumer() ?? throw new InvalidOperationException("The consumer name has not been acquired yet.");

    /// <summary>
    /// Reads the entries this consumer was given earlier but never acknowledged (XREADGROUP with an ID, all streams in one
    /// command) — after a restart under the same consumer name, or after a connection drop swallowed an XREADGROUP reply — into
    /// the buffer, ahead of new ones, oldest first across all streams, waiting for room as it goes.
    /// </summary>
    public async Task ReadOwn(TimeSpan capacityPoll, TimeProvider time, CancellationToken cancellationToken)
    {
        var streams = _streams.Streams;
        var keys = Array.ConvertAll(streams, x => x.Key);
        var positions = new RedisValue[streams.Length];
        Array.Fill(positions, "0");
        var pages = new Queue<(StreamEntry Entry, int DeliveryCount, int Epoch)>[streams.Length];
        var exhausted = new bool[streams.Length];
        for (var i = 0; i < streams.Length; i++)
            pages[i] = new Queue<(StreamEntry, int, int)>();

        while (true)
        {
            // A page of every stream whose last page is used up and that may have more, in one command.
            var refill = Enumerable.Range(0, streams.Length).Where(i => pages[i].Count == 0 && !exhausted[i]).ToList();
            if (refill.Count > 0)
            {
                // Taken before the read: an entry read before a lapse is checked before it is started, however late it is.
                var epoch = _standing.Epoch;
                var read = await _groups.ReadPending(refill.ConvertAll(i => keys[i]), refill.ConvertAll(i => positions[i]), _streams.Group, Consumer,
                    PageSize).ConfigureAwait(false);

                for (var r = 0; r < refill.Count; r++)
                {
                    var i = refill[r];
                    exhausted[i] = read[r].Length < PageSize;
                    if (read[r].Length > 0)
                    {
                        positions[i] = read[r][^1].Id;
                        await Page(streams[i], read[r], epoch, pages[i]).ConfigureAwait(false);
                    }
                }
            }

            var next = -1;
            for (var i = 0; i < streams.Length; i++)
            {
                if (pages[i].Count > 0 && (next < 0
                    || StreamEntryId.Parse(pages[i].Peek().Entry.Id) < StreamEntryId.Parse(pages[next].Peek().Entry.Id)))
                    next = i;
            }

            if (next < 0)
            {
                if (exhausted.All(x => x))
                    return;

                continue;
            }

            while (_buffer.FreeCapacity <= 0)
                await _buffer.WaitForCapacity(capacityPoll, time, cancellationToken).ConfigureAwait(false);

            var (entry, deliveryCount, readIn) = pages[next].Dequeue();
            _buffer.AddClaimed(streams[next], entry, deliveryCount, readIn);
        }
    }

    /// <summary>
    /// Turns a page of own pending entries into deliveries: their delivery counts; those gone from the stream acknowledged and
    /// dropped, and those no longer pending for this consumer (a late XACK of its own got there first) left out.
    /// </summary>
    async Task Page(ReceiveStream stream, StreamEntry[] entries, int epoch, Queue<(StreamEntry, int, int)> page)
    {
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
            await _acknowledger.Acknowledge(stream.Key, gone.ToArray()).ConfigureAwait(false);
            ReportGone(stream.Key, gone.Count);
        }

        // Reading its own pending entries counted a delivery; XPENDING tells how many there were.
        var counts = await GetDeliveryCounts(stream, present).ConfigureAwait(false);
        foreach (var entry in present)
        {
            if (counts.TryGetValue(entry.Id, out var count))
                page.Enqueue((entry, count, epoch));
        }
    }

    /// <summary>
    /// Claims what has been idle longer than the claim timeout in every stream (XAUTOCLAIM) — failed deliveries, the entries of
    /// consumers without a lease, and what a claim from a dead instance missed — as far as the buffer has room. The cursor is
    /// carried from pass to pass, so a pending list of any length is walked to its end.
    /// </summary>
    /// <returns>False when the pass stopped early (the buffer filled up, or a long pending list): continue soon.</returns>
    public async Task<bool> ClaimIdle()
    {
        var consumer = Consumer;
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

                var epoch = _standing.Epoch;
                var result = await _pending.ClaimIdle(stream.Key, _streams.Group, consumer, _claimTimeout, cursor, Math.Min(capacity, ClaimBatch))
                    .ConfigureAwait(false);

                ReportGone(stream.Key, result.Deleted);

                var claimed = result.Claimed.Where(x => !x.IsNull && x.Values is { Length: > 0 }).ToList();
                if (claimed.Count > 0)
                {
                    var counts = await GetDeliveryCounts(stream, claimed).ConfigureAwait(false);
                    foreach (var entry in claimed)
                    {
                        // Not listed: another instance claimed it in the meantime.
                        if (counts.TryGetValue(entry.Id, out var count))
                            _buffer.AddClaimed(stream, entry, count, epoch);
                    }

                    Diagnostics.TransportMetrics.CountClaimed(_streams.Group, claimed.Count, fromDead: false);
                    LogContext.Info?.Log("Claimed {Count} entries of {Stream} idle longer than {ClaimTimeout}", claimed.Count, stream.Key, _claimTimeout);
                }

                cursor = result.NextStart;
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
    /// for the claim timeout: XPENDING for that consumer, then XCLAIM of what it lists. Both take only entries untouched since
    /// the death was noticed (<paramref name="sinceNoticed" />, measured anew for each batch), and at least
    /// <see cref="DeadEntryMinIdle" />: an entry that another instance claimed meanwhile, or that the instance touched after it
    /// came back and renewed its lease under the same name — one it checked and started, one it read anew — is left alone
    /// (see <see cref="ConsumerDeath" />). Anything left over is claimed after the claim timeout as before.
    /// </summary>
    /// <returns>False when the buffer filled up before everything was claimed: continue once there is room.</returns>
    public async Task<bool> ClaimFromDead(string deadConsumer, Func<TimeSpan> sinceNoticed)
    {
        var consumer = Consumer;
        if (deadConsumer == consumer)
            return true;

        var claimedTotal = 0;
        var complete = true;
        foreach (var stream in _streams.Streams)
        {
            for (var round = 0; round < MaxClaimRoundsPerPass; round++)
            {
                var capacity = _buffer.FreeCapacity;
                if (capacity <= 0)
                {
                    complete = false;
                    break;
                }

                var count = Math.Min(capacity, ClaimBatch);
                var epoch = _standing.Epoch;
                var sinceDeath = sinceNoticed();
                var minIdle = sinceDeath > DeadEntryMinIdle ? sinceDeath : DeadEntryMinIdle;
                var pending = await _pending.GetIdlePending(stream.Key, _streams.Group, deadConsumer, minIdle, count).ConfigureAwait(false);
                if (pending.Length == 0)
                    break;

                var ids = Array.ConvertAll(pending, x => x.Id);
                var entries = await _pending.Claim(stream.Key, _streams.Group, consumer, minIdle, ids).ConfigureAwait(false);

                // XCLAIM counted a delivery; XPENDING told how many there were before it.
                var counts = pending.ToDictionary(x => x.Id, x => x.DeliveryCount + 1);
                foreach (var entry in entries)
                {
                    if (!entry.IsNull && entry.Values is { Length: > 0 })
                    {
                        _buffer.AddClaimed(stream, entry, counts[entry.Id], epoch);
                        claimedTotal++;
                    }
                }

                if (pending.Length < count)
                    break;
            }

            if (!complete)
                break;
        }

        Diagnostics.TransportMetrics.CountClaimed(_streams.Group, claimedTotal, fromDead: true);
        if (claimedTotal > 0)
            LogContext.Info?.Log("Claimed {Count} entries of {Group} from {DeadConsumer}, whose instance died", claimedTotal, _streams.Group, deadConsumer);

        return complete;
    }

    /// <summary>
    /// Keeps the entries the buffer holds from being claimed by other instances, however long their handlers run: their idle
    /// time is set back to zero (XCLAIM to this consumer, JUSTID, so the delivery count stays). Those that are no longer this
    /// consumer's — claimed by another while this instance stood still — are dropped from the buffer, unstarted.
    /// </summary>
    public async Task KeepAlive()
    {
        var held = _buffer.GetHeld();
        if (held.Count == 0)
            return;

        var consumer = Consumer;
        foreach (var byStream in held.GroupBy(x => x.Stream))
        {
            var ids = byStream.Select(x => x.Id).ToArray();
            var lost = await _pending.SetIdleTime(byStream.Key, _streams.Group, consumer, ids, TimeSpan.Zero).ConfigureAwait(false);
            if (lost.Length == 0)
                continue;

            _buffer.Drop(lost.Select(x => new EntryKey(byStream.Key, x)));
            LogContext.Debug?.Log("{Count} entries of {Stream} held by {Consumer} were acknowledged or claimed by another meanwhile", lost.Length,
                byStream.Key, consumer);
        }
    }

    /// <summary>
    /// Whether an entry read before the lease may have lapsed is still this consumer's; if it is, it stays so (its idle time is
    /// set back to zero, so a claim that looks now passes it by). One that another instance claimed meanwhile is not started
    /// again here.
    /// </summary>
    public async Task<bool> IsStillOwn(Delivery delivery)
    {
        var lost = await _pending.SetIdleTime(delivery.Stream.Key, _streams.Group, Consumer, [delivery.Entry.Id], TimeSpan.Zero).ConfigureAwait(false);
        return lost.Length == 0;
    }

    /// <summary>
    /// Hands entries this consumer read but never started to the others at once: their idle time is set past the claim
    /// timeout and the other readers are told to claim, so another instance takes them now. With no other instance, this
    /// consumer reads them first at its next start.
    /// </summary>
    public async Task Release(IReadOnlyList<EntryKey> entries)
    {
        if (entries.Count == 0 || _consumer() is not { } consumer)
            return;

        foreach (var byStream in entries.GroupBy(x => x.Stream))
        {
            var ids = byStream.Select(x => x.Id).ToArray();
            try
            {
                await _pending.SetIdleTime(byStream.Key, _streams.Group, consumer, ids, _claimTimeout * 2).ConfigureAwait(false);
                await _wake.Announce(byStream.Key, WakeReason.Claim).ConfigureAwait(false);

                LogContext.Debug?.Log("Released {Count} unstarted entries of {Stream} for other instances", ids.Length, byStream.Key);
            }
            catch (Exception exception) when (TransientFailures.IsRedisFailure(exception))
            {
                LogContext.Warning?.Log(exception, "Releasing {Count} unstarted entries of {Stream} failed; they are claimed after the claim timeout",
                    ids.Length, byStream.Key);
            }
        }
    }

    /// <summary>The delivery counts of entries this consumer just took from the pending list (XPENDING over their range).</summary>
    async Task<Dictionary<RedisValue, int>> GetDeliveryCounts(ReceiveStream stream, List<StreamEntry> entries)
    {
        var counts = new Dictionary<RedisValue, int>(entries.Count);
        if (entries.Count == 0)
            return counts;

        // Entries this consumer holds already may lie in the same range.
        var pending = await _pending.GetPending(stream.Key, _streams.Group, Consumer, entries[0].Id, entries[^1].Id,
            entries.Count + _buffer.Count).ConfigureAwait(false);

        foreach (var info in pending)
            counts[info.Id] = info.DeliveryCount;

        return counts;
    }

    static void ReportGone(RedisKey stream, int count)
    {
        if (count <= 0)
            return;

        LogContext.Warning?.Log("{Count} pending entries of {Stream} had been deleted or trimmed from the stream; acknowledged and dropped", count,
            stream);
    }
}
