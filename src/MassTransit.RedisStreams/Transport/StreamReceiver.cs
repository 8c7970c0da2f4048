namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Internals;
using Redis;
using StackExchange.Redis;
using Transports;


/// <summary>
/// Reads a receive endpoint's streams and hands the entries to MassTransit's receive pipe.
/// </summary>
/// <remarks>
/// One read loop per endpoint fills a buffer of at most PrefetchCount entries with batched, non-blocking XREADGROUPs;
/// ConcurrentMessageLimit workers take entries from the buffer and dispatch them; each entry is acknowledged (batched XACK)
/// when its dispatch completes. When every stream comes back empty the loop arms the streams' wake flags, reads once more,
/// and sleeps until a wake-up is published, the connection changes or <see cref="RedisStreamsTransportOptions.IdlePollInterval" />
/// passes. No error ends the loop: it reports the fault, backs off, sets the endpoint up again and carries on. A
/// <see cref="PendingEntryKeeper" /> beside it keeps held entries alive and claims those of crashed instances.
/// </remarks>
sealed class StreamReceiver :
    ConsumerAgent<EntryKey>,
    ReceiveTransportHandle,
    IPendingEntrySink
{
    const string NewEntries = ">";
    static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    readonly RedisStreamsBroker _broker;
    readonly AsyncSignal _capacity;
    readonly int _concurrency;
    readonly RedisStreamsReceiveEndpointContext _context;
    readonly string _defaultMediaType;
    readonly Channel<Delivery> _deliveries;
    readonly ConcurrentDictionary<EntryKey, byte> _held;
    readonly TimeSpan _housekeepingInterval;
    readonly PendingEntryKeeper _keeper;
    readonly int _prefetch;
    readonly ConcurrentQueue<Delivery> _released;
    readonly EndpointStreams _streams;
    readonly AsyncSignal _wake;
    int _disarmed;
    int _heldCount;
    int _rotation;
    int _topologyChanged;

    public StreamReceiver(RedisStreamsReceiveEndpointContext context)
        : base(context)
    {
        _context = context;
        _broker = context.Broker;

        _prefetch = Math.Max(1, context.PrefetchCount);
        _concurrency = Math.Max(1, Math.Min(context.ConcurrentMessageLimit ?? _prefetch, _prefetch));

        var expiry = _broker.Settings.TemporaryStreamExpiry;
        _housekeepingInterval = TimeSpan.FromTicks(Math.Min(expiry.Ticks / 3, TimeSpan.FromSeconds(30).Ticks));

        _defaultMediaType = context.Serialization.GetMessageDeserializer().ContentType.MediaType;

        _wake = new AsyncSignal();
        _capacity = new AsyncSignal();
        _held = new ConcurrentDictionary<EntryKey, byte>();
        _released = new ConcurrentQueue<Delivery>();
        _deliveries = Channel.CreateUnbounded<Delivery>();
        _streams = new EndpointStreams(context, OnWake, Stopping);
        _keeper = new PendingEntryKeeper(_broker, _streams, this, Stopping);

        TrySetConsumeTask(Task.Run(Run));
    }

    int IPendingEntrySink.FreeCapacity => _prefetch - Volatile.Read(ref _heldCount);

    Task ReceiveTransportHandle.Stop(CancellationToken cancellationToken)
    {
        return this.Stop("Stop Receive Transport", cancellationToken);
    }

    async Task Run()
    {
        _broker.Connection.ConnectionChanged += OnConnectionChanged;
        try
        {
            await _context.DependenciesReady.OrCanceled(Stopping).ConfigureAwait(false);

            var workers = new Task[_concurrency];
            for (var i = 0; i < workers.Length; i++)
                workers[i] = Task.Run(Work);

            Task? keeper = null;
            try
            {
                await ReadLoop(() => keeper ??= Task.Run(_keeper.Run)).ConfigureAwait(false);
            }
            finally
            {
                _deliveries.Writer.TryComplete();

                await Task.WhenAll(workers).ConfigureAwait(false);
                if (keeper != null)
                    await keeper.ConfigureAwait(false);

                await ReleaseUnstarted().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (IsStopping)
        {
        }
        finally
        {
            _broker.Connection.ConnectionChanged -= OnConnectionChanged;
        }
    }

    async Task ReadLoop(Action startKeeper)
    {
        var failures = 0;
        var healthy = false;
        var reading = false;
        var armedUntil = DateTime.MinValue;
        var nextHousekeeping = DateTime.UtcNow + _housekeepingInterval;

        while (!IsStopping)
        {
            try
            {
                if (!healthy)
                {
                    await SetupStreams().ConfigureAwait(false);

                    healthy = true;
                    failures = 0;
                    reading = false;

                    if (!_context.ReceivePipe.Connected.IsCompleted)
                        await _context.TransportObservers.NotifyReady(_context.InputAddress, false).ConfigureAwait(false);
                }

                if (DateTime.UtcNow >= nextHousekeeping)
                {
                    // Renews a temporary stream's expiry, and picks up derived types whose announcement was missed while the
                    // connection was down.
                    await SetupStreams().ConfigureAwait(false);
                    nextHousekeeping = DateTime.UtcNow + _housekeepingInterval;
                }

                if (!reading)
                {
                    // An endpoint with nothing connected yet (the bus endpoint before a request client connects its response
                    // handler) reads nothing that nothing would consume; it only notices when the connection fails, so that
                    // health reflects the outage for it too.
                    if (!_context.ReceivePipe.Connected.IsCompleted)
                    {
                        var connected = _context.ReceivePipe.Connected;
                        var woken = _wake.Wait(_housekeepingInterval, Stopping);
                        if (await Task.WhenAny(connected, woken).ConfigureAwait(false) == woken && !connected.IsCompleted)
                            await _broker.Client.Ping().ConfigureAwait(false);

                        continue;
                    }

                    await ReadOwnPending().ConfigureAwait(false);
                    reading = true;
                    startKeeper();

                    await _context.TransportObservers.NotifyReady(_context.InputAddress).ConfigureAwait(false);
                    SetReady();
                }

                if (Interlocked.Exchange(ref _topologyChanged, 0) == 1)
                    await SetupStreams().ConfigureAwait(false);

                var capacity = _prefetch - Volatile.Read(ref _heldCount);
                if (capacity <= 0)
                {
                    await _capacity.Wait(_broker.Settings.IdlePollInterval, Stopping).ConfigureAwait(false);
                    continue;
                }

                if (await ReadNew(capacity, everyStream: false).ConfigureAwait(false) > 0 || AnyMaybeHasEntries())
                    continue;

                // Every stream came back short. Unless the wake flags are known to be still set, arm them, then look once more:
                // an entry appended before the flags were set is found by this read, one appended after finds a flag and
                // publishes a wake-up.
                if (Interlocked.Exchange(ref _disarmed, 0) == 1 || DateTime.UtcNow >= armedUntil)
                {
                    await _broker.Client.ArmWake(StreamKeysOf(_streams.Streams), WakeFlagLifetime).ConfigureAwait(false);
                    armedUntil = DateTime.UtcNow + WakeFlagLifetime - _broker.Settings.IdlePollInterval - _broker.Settings.IdlePollInterval;

                    if (await ReadNew(capacity, everyStream: true).ConfigureAwait(false) > 0)
                        continue;
                }

                // The poll bounds how late entries appended by other writers, or whose wake-up was lost, are seen.
                if (!await _wake.Wait(_broker.Settings.IdlePollInterval, Stopping).ConfigureAwait(false))
                    WakeAll();
            }
            catch (OperationCanceledException) when (IsStopping)
            {
                break;
            }
            catch (Exception exception)
            {
                healthy = false;
                failures++;

                if (failures == 1)
                {
                    LogContext.Warning?.Log(exception, "Receive from Redis failed, retrying: {InputAddress}", _context.InputAddress);

                    await _context.TransportObservers.NotifyFaulted(_context.InputAddress, _context.ConvertException(exception, "Redis receive failed: "))
                        .ConfigureAwait(false);
                }

                await Backoff(failures).ConfigureAwait(false);
            }
        }
    }

    async Task SetupStreams()
    {
        await _streams.Setup().ConfigureAwait(false);

        // Streams may have been added, or Redis may have lost the flags with its data.
        Interlocked.Exchange(ref _disarmed, 1);
    }

    /// <summary>
    /// A flag outlives several polls, so an idle endpoint sets it again only every few polls; it still expires by itself once
    /// nothing renews it.
    /// </summary>
    TimeSpan WakeFlagLifetime => _broker.Settings.IdlePollInterval * 4 + TimeSpan.FromSeconds(1);

    /// <summary>
    /// Reads new entries (XREADGROUP ... &gt;) from the streams that may have some, sharing <paramref name="capacity" /> between
    /// them and rotating who gets the remainder, so a busy stream cannot starve the others. The reads are pipelined.
    /// </summary>
    async Task<int> ReadNew(int capacity, bool everyStream)
    {
        var streams = _streams.Streams;

        var candidates = new List<ReceiveStream>(streams.Length);
        foreach (var stream in streams)
        {
            if (everyStream || stream.MaybeHasEntries)
                candidates.Add(stream);
        }

        if (candidates.Count == 0)
            return 0;

        var share = capacity / candidates.Count;
        var remainder = capacity % candidates.Count;
        var start = _rotation++ & int.MaxValue;
        var consumer = _broker.ConsumerName;

        var reads = new List<(ReceiveStream Stream, int Count, long Version, Task<StreamEntry[]> Read)>(candidates.Count);
        for (var i = 0; i < candidates.Count; i++)
        {
            var stream = candidates[(start + i) % candidates.Count];
            var count = share + (i < remainder ? 1 : 0);
            if (count == 0)
                continue;

            var version = stream.ReadVersion;
            reads.Add((stream, count, version, _broker.Client.ReadGroup(stream.Key, _streams.Group, consumer, NewEntries, count)));
        }

        var total = 0;
        Exception? failure = null;
        foreach (var (stream, count, version, read) in reads)
        {
            StreamEntry[] entries;
            try
            {
                entries = await read.ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                // The other reads may have returned entries that are now pending for this consumer: hand them on first.
                failure ??= exception;
                continue;
            }

            if (entries.Length < count)
                stream.MarkDrained(version);

            foreach (var entry in entries)
            {
                stream.LastReadId = entry.Id;
                Enqueue(stream, entry, 1);
            }

            total += entries.Length;
        }

        if (failure != null)
            throw failure;

        return total;
    }

    /// <summary>
    /// Reads the entries this consumer was given earlier but never acknowledged (XREADGROUP ... 0): after a restart under the
    /// same consumer name, or after a connection drop swallowed an XREADGROUP reply.
    /// </summary>
    async Task ReadOwnPending()
    {
        foreach (var stream in _streams.Streams)
        {
            RedisValue position = "0";
            while (!IsStopping)
            {
                while (Volatile.Read(ref _heldCount) >= _prefetch)
                    await _capacity.Wait(_broker.Settings.IdlePollInterval, Stopping).ConfigureAwait(false);

                var entries = await _broker.Client.ReadGroup(stream.Key, _streams.Group, _broker.ConsumerName, position,
                    Math.Max(1, _prefetch - Volatile.Read(ref _heldCount))).ConfigureAwait(false);

                if (entries.Length == 0)
                    break;

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
                    await _broker.Client.Acknowledge(stream.Key, _streams.Group, gone.ToArray()).ConfigureAwait(false);
                    _keeper.CountGone(stream.Key, gone.Count);
                }

                var counts = await _keeper.GetDeliveryCounts(stream, present).ConfigureAwait(false);
                foreach (var entry in present)
                    Enqueue(stream, entry, counts.TryGetValue(entry.Id, out var count) ? count : 2);

                position = entries[^1].Id;
            }
        }
    }

    public void Enqueue(ReceiveStream stream, StreamEntry entry, int deliveryCount)
    {
        if (!_held.TryAdd(new EntryKey(stream.Key, entry.Id), 0))
            return;

        Interlocked.Increment(ref _heldCount);

        _deliveries.Writer.TryWrite(new Delivery(stream, entry, deliveryCount));
    }

    public IReadOnlyList<EntryKey> GetHeldEntries()
    {
        return [.._held.Keys];
    }

    async Task Work()
    {
        var reader = _deliveries.Reader;

        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var delivery))
            {
                if (IsStopping)
                {
                    // Buffered but never started: handed back for other instances once the workers are done.
                    _released.Enqueue(delivery);
                    continue;
                }

                await Deliver(delivery).ConfigureAwait(false);
            }
        }
    }

    async Task Deliver(Delivery delivery)
    {
        try
        {
            if (await DivertUndeliverable(delivery).ConfigureAwait(false))
                return;

            LogContext.Current = _context.LogContext;

            var context = new RedisStreamsReceiveContext(delivery.Entry, delivery.Stream, _context, delivery.DeliveryCount);
            try
            {
                await Dispatch(new EntryKey(delivery.Stream.Key, delivery.Entry.Id), context, context).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                context.LogTransportFaulted(exception);
            }
            finally
            {
                context.Dispose();
            }
        }
        finally
        {
            Release(delivery);
        }
    }

    /// <summary>
    /// Moves an entry that must not reach MassTransit to the endpoint's <c>_error</c> stream, with the reason, and
    /// acknowledges it, so it never blocks the entries behind it: one delivered more often than MaxDeliveryCount (its handler
    /// crashes the process, or the connection drops, every time), or one that is not a message at all.
    /// </summary>
    async Task<bool> DivertUndeliverable(Delivery delivery)
    {
        string reason;
        string message;

        if (delivery.DeliveryCount > _broker.Settings.MaxDeliveryCount)
        {
            reason = UndeliverableReason.MaxDeliveries;
            message = $"Delivered {delivery.DeliveryCount} times without being acknowledged, more than the MaxDeliveryCount of "
                + $"{_broker.Settings.MaxDeliveryCount}; its handler may crash the process or lose the connection every time.";
        }
        else
        {
            var problem = EntryValidator.Check(delivery.Entry, _broker.Settings.MaxMessageSize, _defaultMediaType);
            if (problem == null)
                return false;

            reason = UndeliverableReason.InvalidEntry;
            message = problem;
        }

        try
        {
            LogContext.Warning?.Log("Moving entry {EntryId} of {Stream} to the error stream: {Reason}", delivery.Entry.Id, delivery.Stream.Key, message);

            await _context.ErrorTransport.Move(delivery.Entry,
            [
                new KeyValuePair<string, object>(MessageHeaders.Reason, reason),
                new KeyValuePair<string, object>(MessageHeaders.FaultMessage, message),
                new KeyValuePair<string, object>(MessageHeaders.FaultInputAddress, _context.InputAddress),
                new KeyValuePair<string, object>(MessageHeaders.FaultTimestamp, DateTime.UtcNow),
                new KeyValuePair<string, object>(UndeliverableReason.SourceStreamHeader, delivery.Stream.Key.ToString()),
                new KeyValuePair<string, object>(UndeliverableReason.SourceEntryHeader, delivery.Entry.Id.ToString())
            ]).ConfigureAwait(false);

            await delivery.Stream.Acknowledgements.Acknowledge(delivery.Entry.Id).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // Left pending: the entry is claimed and checked again later.
            LogContext.Warning?.Log(exception, "Moving entry {EntryId} of {Stream} to the error stream failed", delivery.Entry.Id, delivery.Stream.Key);
        }

        return true;
    }

    void Release(Delivery delivery)
    {
        if (_held.TryRemove(new EntryKey(delivery.Stream.Key, delivery.Entry.Id), out _))
        {
            Interlocked.Decrement(ref _heldCount);
            _capacity.Set();
        }
    }

    /// <summary>
    /// Hands the entries read but never started back at once: their idle time is set past the claim timeout and the other
    /// readers are told to claim, so another instance takes them now; with no other instance, this consumer reads them first at
    /// its next start.
    /// </summary>
    async Task ReleaseUnstarted()
    {
        var byStream = new Dictionary<ReceiveStream, List<RedisValue>>();
        while (_released.TryDequeue(out var delivery))
        {
            Release(delivery);

            if (!byStream.TryGetValue(delivery.Stream, out var ids))
                byStream[delivery.Stream] = ids = [];
            ids.Add(delivery.Entry.Id);
        }

        if (byStream.Count == 0 || _broker.Identity.CurrentName is not { } consumer)
            return;

        foreach (var (stream, ids) in byStream)
        {
            try
            {
                await _broker.Client.Touch(stream.Key, _streams.Group, consumer, ids, _broker.Settings.ClaimTimeout * 2).ConfigureAwait(false);
                await _broker.Client.AnnounceReleased(stream.Key).ConfigureAwait(false);

                LogContext.Debug?.Log("Released {Count} unstarted entries of {Stream} for other instances", ids.Count, stream.Key);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                LogContext.Warning?.Log(exception, "Releasing {Count} unstarted entries of {Stream} failed; they are claimed after the claim timeout",
                    ids.Count, stream.Key);
            }
        }
    }

    void OnWake(RedisKey stream, WakeReason reason)
    {
        switch (reason)
        {
            case WakeReason.Entries:
                // The append that published this wake-up cleared the stream's flag.
                Interlocked.Exchange(ref _disarmed, 1);
                _streams.Find(stream)?.Wake();
                break;

            case WakeReason.Topology:
                Interlocked.Exchange(ref _topologyChanged, 1);
                break;

            case WakeReason.Claim:
                _keeper.RequestClaim();
                break;
        }

        _wake.Set();
    }

    void OnConnectionChanged(bool connected)
    {
        // A restarted server has lost the flags.
        Interlocked.Exchange(ref _disarmed, 1);
        WakeAll();
        _wake.Set();
        _capacity.Set();
    }

    void WakeAll()
    {
        foreach (var stream in _streams.Streams)
            stream.Wake();
    }

    bool AnyMaybeHasEntries()
    {
        foreach (var stream in _streams.Streams)
        {
            if (stream.MaybeHasEntries)
                return true;
        }

        return false;
    }

    static RedisKey[] StreamKeysOf(ReceiveStream[] streams)
    {
        var keys = new RedisKey[streams.Length];
        for (var i = 0; i < streams.Length; i++)
            keys[i] = streams[i].Key;

        return keys;
    }

    async Task Backoff(int failures)
    {
        var delay = TimeSpan.FromMilliseconds(Math.Min(MaxBackoff.TotalMilliseconds, 100 * Math.Pow(2, Math.Min(failures - 1, 10))));
        try
        {
            await Task.Delay(delay, Stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    protected override async Task ActiveAndActualAgentsCompleted(StopContext context)
    {
        await base.ActiveAndActualAgentsCompleted(context).ConfigureAwait(false);

        await _streams.Teardown().ConfigureAwait(false);

        await _context.TransportObservers.NotifyCompleted(_context.InputAddress, this).ConfigureAwait(false);

        _context.LogConsumerCompleted(DeliveryCount, ConcurrentDeliveryCount);
    }


    readonly record struct Delivery(ReceiveStream Stream, StreamEntry Entry, int DeliveryCount);
}


/// <summary>Identifies an entry across the streams of an endpoint.</summary>
readonly record struct EntryKey(RedisKey Stream, RedisValue Id);
