namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Internals;
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
/// passes. No error ends the loop: it reports the fault, backs off, sets the endpoint up again and carries on.
/// </remarks>
sealed class StreamReceiver :
    ConsumerAgent<EntryKey>,
    ReceiveTransportHandle
{
    const string NewEntries = ">";
    static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    readonly RedisStreamsBroker _broker;
    readonly AsyncSignal _capacity;
    readonly int _concurrency;
    readonly RedisStreamsReceiveEndpointContext _context;
    readonly Channel<Delivery> _deliveries;
    readonly ConcurrentDictionary<EntryKey, ReceiveStream> _held;
    readonly TimeSpan _housekeepingInterval;
    readonly int _prefetch;
    readonly EndpointStreams _streams;
    readonly AsyncSignal _wake;
    int _heldCount;
    int _rotation;
    int _topologyChanged;
    int _disarmed;

    public StreamReceiver(RedisStreamsReceiveEndpointContext context)
        : base(context)
    {
        _context = context;
        _broker = context.Broker;

        _prefetch = Math.Max(1, context.PrefetchCount);
        _concurrency = Math.Max(1, Math.Min(context.ConcurrentMessageLimit ?? _prefetch, _prefetch));

        var expiry = _broker.Settings.TemporaryStreamExpiry;
        _housekeepingInterval = TimeSpan.FromTicks(Math.Min(expiry.Ticks / 3, TimeSpan.FromSeconds(30).Ticks));

        _wake = new AsyncSignal();
        _capacity = new AsyncSignal();
        _held = new ConcurrentDictionary<EntryKey, ReceiveStream>();
        _deliveries = Channel.CreateUnbounded<Delivery>(new UnboundedChannelOptions { SingleWriter = true });
        _streams = new EndpointStreams(context, OnWake, Stopping);

        TrySetConsumeTask(Task.Run(Run));
    }

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

            try
            {
                await ReadLoop().ConfigureAwait(false);
            }
            finally
            {
                _deliveries.Writer.TryComplete();

                await Task.WhenAll(workers).ConfigureAwait(false);
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

    async Task ReadLoop()
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

        var reads = new List<(ReceiveStream Stream, int Count, long Version, Task<StreamEntry[]> Read)>(candidates.Count);
        for (var i = 0; i < candidates.Count; i++)
        {
            var stream = candidates[(start + i) % candidates.Count];
            var count = share + (i < remainder ? 1 : 0);
            if (count == 0)
                continue;

            var version = stream.ReadVersion;
            reads.Add((stream, count, version, _broker.Client.ReadGroup(stream.Key, _streams.Group, _broker.ConsumerName, NewEntries, count)));
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
                Enqueue(stream, entry, false);

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

                foreach (var entry in entries)
                {
                    if (entry.Values is { Length: > 0 })
                        Enqueue(stream, entry, true);
                    else
                    {
                        // The entry was deleted or trimmed while pending; there is nothing left to deliver.
                        await stream.Acknowledgements.Acknowledge(entry.Id).ConfigureAwait(false);
                    }
                }

                position = entries[^1].Id;
            }
        }
    }

    void Enqueue(ReceiveStream stream, StreamEntry entry, bool redelivered)
    {
        if (!_held.TryAdd(new EntryKey(stream.Key, entry.Id), stream))
            return;

        Interlocked.Increment(ref _heldCount);

        if (!redelivered)
            stream.LastReadId = entry.Id;

        _deliveries.Writer.TryWrite(new Delivery(stream, entry, redelivered));
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
                    // Buffered but never started: left pending for this consumer, to be read again at its next start.
                    Release(delivery);
                    continue;
                }

                await Deliver(delivery).ConfigureAwait(false);
            }
        }
    }

    async Task Deliver(Delivery delivery)
    {
        LogContext.Current = _context.LogContext;

        var context = new RedisStreamsReceiveContext(delivery.Entry, delivery.Stream, _context, delivery.Redelivered);
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
            Release(delivery);
        }
    }

    void Release(Delivery delivery)
    {
        if (_held.TryRemove(new EntryKey(delivery.Stream.Key, delivery.Entry.Id), out _))
        {
            Interlocked.Decrement(ref _heldCount);
            _capacity.Set();
        }
    }

    void OnWake(RedisKey stream, bool isEntry)
    {
        if (isEntry)
        {
            // The append that published this wake-up cleared the stream's flag.
            Interlocked.Exchange(ref _disarmed, 1);
            _streams.Find(stream)?.Wake();
        }
        else
            Interlocked.Exchange(ref _topologyChanged, 1);

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


    readonly record struct Delivery(ReceiveStream Stream, StreamEntry Entry, bool Redelivered);
}


/// <summary>Identifies an entry across the streams of an endpoint.</summary>
readonly record struct EntryKey(RedisKey Stream, RedisValue Id);
