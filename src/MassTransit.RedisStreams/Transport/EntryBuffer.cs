namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;
using Support;


/// <summary>
/// The one owner of the entries an endpoint holds — read or claimed, and not yet handled and acknowledged — and of the prefetch
/// bound. An entry is held back while an older one may still be unread in another stream (<see cref="GroupReader" /> says
/// until when), then queued for the workers; entries claimed from other consumers are queued ahead of those read new, as
/// RabbitMQ puts a dead consumer's unacknowledged messages back at the head of its queue.
/// </summary>
sealed class EntryBuffer
{
    readonly AsyncSignal _capacity = new();

    /// <summary>The entries held, each with the token of its hold: a queued delivery of an earlier hold is stale.</summary>
    readonly ConcurrentDictionary<EntryKey, long> _held = new();
    readonly PriorityQueue<Delivery, StreamEntryId> _heldBack = new();
    readonly ConcurrentQueue<Delivery> _returned = new();
    readonly int _limit;
    readonly ConcurrentQueue<Delivery> _fresh = new();
    readonly ConcurrentQueue<Delivery> _claimed = new();
    readonly Action? _roomForClaims;

    /// <summary>One ticket per entry queued in either lane: a worker that gets one finds an entry, claimed ones first.</summary>
    readonly Channel<bool> _tickets = Channel.CreateUnbounded<bool>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
    int _claimsWaiting;
    int _count;
    int _dropped;
    long _holds;

    /// <param name="limit">The most entries held at once: the endpoint's PrefetchCount.</param>
    /// <param name="roomForClaims">Called when an entry is done while claims wait for room (<see cref="BeginClaims" />).</param>
    public EntryBuffer(int limit, Action? roomForClaims = null)
    {
        _limit = limit;
        _roomForClaims = roomForClaims;
    }

    /// <summary>How many more entries may be held before the buffer holds its limit.</summary>
    public int FreeCapacity => _limit - Volatile.Read(ref _count);

    /// <summary>
    /// How many new entries may be read: none while claims of other consumers' entries wait for room, which they get first.
    /// </summary>
    public int FreeForReading => Volatile.Read(ref _claimsWaiting) > 0 ? 0 : FreeCapacity;

    /// <summary>How many entries are held: queued, held back, or in the workers' hands.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The entries held back, waiting for an older one still unread in another stream.</summary>
    public int HeldBackCount => _heldBack.Count;

    /// <summary>Waits until an entry is done, or <paramref name="poll" /> passes.</summary>
    public Task WaitForCapacity(TimeSpan poll, TimeProvider time, CancellationToken cancellationToken) => _capacity.Wait(poll, time, cancellationToken);

    /// <summary>Wakes a caller waiting for room, to look again (the connection changed, say).</summary>
    public void SignalCapacity() => _capacity.Set();

    /// <summary>
    /// Claims of other consumers' entries wait for room: reading new entries stops until <see cref="EndClaims" />, so that the
    /// room that frees up goes to the claims.
    /// </summary>
    public void BeginClaims() => Interlocked.Increment(ref _claimsWaiting);

    /// <summary>The claims begun with <see cref="BeginClaims" /> are done: reading goes on.</summary>
    public void EndClaims()
    {
        Interlocked.Decrement(ref _claimsWaiting);
        _capacity.Set();
    }

    /// <summary>Holds an entry just read without queueing it; null when it is held already.</summary>
    public Delivery? Hold(ReceiveStream stream, StreamEntry entry, int deliveryCount, int epoch)
    {
        var delivery = new Delivery(stream, entry, deliveryCount, epoch, Interlocked.Increment(ref _holds));
        if (!_held.TryAdd(delivery.Key, delivery.Hold))
            return null;

        Interlocked.Increment(ref _count);
        return delivery;
    }

    /// <summary>Queues a held entry for the workers, after those queued before it.</summary>
    public void Queue(Delivery delivery)
    {
        _fresh.Enqueue(delivery);
        _tickets.Writer.TryWrite(true);
    }

    /// <summary>Holds an entry claimed from another consumer (or read back as this one's own) and queues it ahead of new ones.</summary>
    /// <returns>False when it was held already.</returns>
    public bool AddClaimed(ReceiveStream stream, StreamEntry entry, int deliveryCount, int epoch)
    {
        if (Hold(stream, entry, deliveryCount, epoch) is not { } delivery)
            return false;

        _claimed.Enqueue(delivery);
        _tickets.Writer.TryWrite(true);
        return true;
    }

    /// <summary>Holds an entry back until an older one in another stream may no longer be unread. Read loop only.</summary>
    public void HoldBack(Delivery delivery, StreamEntryId id) => _heldBack.Enqueue(delivery, id);

    /// <summary>Queues every entry held back whose ID is at most <paramref name="frontier" />, oldest first. Read loop only.</summary>
    public void ReleaseThrough(StreamEntryId frontier)
    {
        while (_heldBack.TryPeek(out var delivery, out var id) && id <= frontier)
        {
            _heldBack.Dequeue();
            Queue(delivery);
        }
    }

    /// <summary>Forgets the entries held back: after a failure the endpoint reads its own pending entries again, these among them.</summary>
    public void ForgetHeldBack()
    {
        while (_heldBack.TryDequeue(out var delivery, out _))
            Done(delivery);
    }

    /// <summary>
    /// The next entry for a worker, claimed ones first; null once the buffer is complete and empty. An entry dropped
    /// meanwhile (<see cref="Drop" />) is skipped, and so is one held again since (claimed back): its new hold is queued too.
    /// </summary>
    public async ValueTask<Delivery?> Take()
    {
        var tickets = _tickets.Reader;
        while (true)
        {
            while (tickets.TryRead(out _))
            {
                // Only an entry dropped meanwhile is no longer held; until one has been, none needs looking up.
                if ((_claimed.TryDequeue(out var delivery) || _fresh.TryDequeue(out delivery))
                    && (Volatile.Read(ref _dropped) == 0 || IsHeld(delivery)))
                    return delivery;
            }

            if (!await tickets.WaitToReadAsync().ConfigureAwait(false))
                return null;
        }
    }

    /// <summary>A worker took an entry but will not start it (the endpoint is stopping): it joins the unstarted ones.</summary>
    public void Requeue(Delivery delivery) => _returned.Enqueue(delivery);

    /// <summary>The entry is handled and acknowledged, or released: it no longer counts against the limit.</summary>
    public void Done(Delivery delivery)
    {
        if (_held.TryRemove(KeyValuePair.Create(delivery.Key, delivery.Hold)))
            Freed();
    }

    /// <summary>Entries that are no longer this consumer's (another claimed them while it stood still): not started, not counted.</summary>
    public void Drop(IEnumerable<EntryKey> entries)
    {
        foreach (var entry in entries)
        {
            if (_held.TryRemove(entry, out _))
            {
                Interlocked.Exchange(ref _dropped, 1);
                Freed();
            }
        }
    }

    void Freed()
    {
        Interlocked.Decrement(ref _count);
        _capacity.Set();
        if (Volatile.Read(ref _claimsWaiting) > 0)
            _roomForClaims?.Invoke();
    }

    /// <summary>Whether this hold of the entry is the current one (not done, not dropped, not held again since).</summary>
    bool IsHeld(Delivery delivery) => _held.TryGetValue(delivery.Key, out var hold) && hold == delivery.Hold;

    /// <summary>The entries held now.</summary>
    public IReadOnlyList<EntryKey> GetHeld() => [.._held.Keys];

    /// <summary>No more entries come; the workers finish what is queued, or leave it for <see cref="TakeUnstarted" />.</summary>
    public void Complete() => _tickets.Writer.TryComplete();

    /// <summary>Takes every entry still held that no worker started — queued or held back — for the endpoint to release.</summary>
    public List<Delivery> TakeUnstarted()
    {
        var unstarted = new List<Delivery>();
        while (_returned.TryDequeue(out var delivery) || _claimed.TryDequeue(out delivery) || _fresh.TryDequeue(out delivery)
            || _heldBack.TryDequeue(out delivery, out _))
        {
            if (IsHeld(delivery))
                unstarted.Add(delivery);
        }

        return unstarted;
    }
}


/// <summary>
/// An entry on its way to the receive pipe: where it was read, how often it has been delivered, in which lease epoch, and the
/// token of the buffer's hold on it.
/// </summary>
readonly record struct Delivery(ReceiveStream Stream, StreamEntry Entry, int DeliveryCount, int Epoch, long Hold)
{
    public EntryKey Key => new(Stream.Key, Entry.Id);
}


/// <summary>Identifies an entry across the streams of an endpoint.</summary>
/// <remarks>
/// The ID is compared and hashed as its bytes: <see cref="RedisValue" />'s own equality and hash try to read it as a number
/// first, which cost more than the rest of the buffer's bookkeeping together.
/// </remarks>
readonly record struct EntryKey(RedisKey Stream, RedisValue Id)
{
    public bool Equals(EntryKey other) =>
        ((ReadOnlyMemory<byte>)Id).Span.SequenceEqual(((ReadOnlyMemory<byte>)other.Id).Span) && Stream == other.Stream && Id.IsNull == other.Id.IsNull;

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(((ReadOnlyMemory<byte>)Id).Span);
        hash.Add(Stream);
        return hash.ToHashCode();
    }
}
