namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// The entries one endpoint holds — read or claimed, and not yet handled and acknowledged — in the order they came, for the
/// workers to take. It is the one owner of the prefetch bound: whoever reads or claims asks it for room first, and an entry
/// counts against the bound until <see cref="Done" />.
/// </summary>
sealed class EntryBuffer
{
    readonly AsyncSignal _capacity;
    readonly TimeSpan _capacityPoll;
    readonly ConcurrentDictionary<EntryKey, byte> _held;
    readonly int _limit;
    readonly Channel<Delivery> _queue;
    int _count;

    /// <param name="limit">PrefetchCount: the most entries held at once.</param>
    /// <param name="capacityPoll">The longest <see cref="WaitForCapacity" /> waits before the caller looks again.</param>
    public EntryBuffer(int limit, TimeSpan capacityPoll)
    {
        _limit = limit;
        _capacityPoll = capacityPoll;
        _capacity = new AsyncSignal();
        _held = new ConcurrentDictionary<EntryKey, byte>();
        _queue = Channel.CreateUnbounded<Delivery>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
    }

    /// <summary>How many more entries may be added before the buffer holds its limit.</summary>
    public int FreeCapacity => _limit - Volatile.Read(ref _count);

    /// <summary>How many entries are held: queued, in the workers' hands, or held back by the reader.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Where the workers take entries from, in the order they were added.</summary>
    public ChannelReader<Delivery> Deliveries => _queue.Reader;

    /// <summary>Waits until an entry is done, or the poll interval passes.</summary>
    public Task WaitForCapacity(CancellationToken cancellationToken) => _capacity.Wait(_capacityPoll, cancellationToken);

    /// <summary>Wakes a caller waiting for room, to look again (the connection changed, say).</summary>
    public void SignalCapacity() => _capacity.Set();

    /// <summary>
    /// Holds an entry and queues it for delivery; false, and nothing changes, when the entry is held already (read again by
    /// a claim, say).
    /// </summary>
    public bool Add(ReceiveStream stream, StreamEntry entry, int deliveryCount)
    {
        if (Hold(stream, entry, deliveryCount) is not { } delivery)
            return false;

        Enqueue(delivery);
        return true;
    }

    /// <summary>
    /// Holds an entry without queueing it yet, for a reader that hands it on later with <see cref="Enqueue" />; null when the
    /// entry is held already.
    /// </summary>
    public Delivery? Hold(ReceiveStream stream, StreamEntry entry, int deliveryCount)
    {
        var delivery = new Delivery(stream, entry, deliveryCount);
        if (!_held.TryAdd(delivery.Key, 0))
            return null;

        Interlocked.Increment(ref _count);
        return delivery;
    }

    /// <summary>Queues a held entry for the workers.</summary>
    public void Enqueue(Delivery delivery) => _queue.Writer.TryWrite(delivery);

    /// <summary>The entry is handled and acknowledged, or released: it no longer counts against the limit.</summary>
    public void Done(Delivery delivery)
    {
        if (_held.TryRemove(delivery.Key, out _))
        {
            Interlocked.Decrement(ref _count);
            _capacity.Set();
        }
    }

    /// <summary>The entries held now.</summary>
    public IReadOnlyList<EntryKey> GetHeld() => [.._held.Keys];

    /// <summary>No more entries come; the workers finish what is queued.</summary>
    public void Complete() => _queue.Writer.TryComplete();
}


/// <summary>An entry on its way to the receive pipe: where it was read, and how often it has been delivered.</summary>
readonly record struct Delivery(ReceiveStream Stream, StreamEntry Entry, int DeliveryCount)
{
    public EntryKey Key => new(Stream.Key, Entry.Id);
}


/// <summary>Identifies an entry across the streams of an endpoint.</summary>
readonly record struct EntryKey(RedisKey Stream, RedisValue Id);
