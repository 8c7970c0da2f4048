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
/// passes. No error ends the loop: it reports the fault, backs off, sets the endpoint up again and carries on. The
/// <see cref="GroupReader" /> does the reading, the <see cref="PendingEntryKeeper" /> beside the loop keeps held entries
/// alive and claims those of crashed instances, and <see cref="UndeliverableEntries" /> keeps what is not a deliverable
/// message away from MassTransit.
/// </remarks>
sealed class StreamReceiver :
    ConsumerAgent<EntryKey>,
    ReceiveTransportHandle,
    IEntrySink
{
    static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    readonly RedisStreamsBroker _broker;
    readonly AsyncSignal _capacity;
    readonly int _concurrency;
    readonly RedisStreamsReceiveEndpointContext _context;
    readonly Channel<Delivery> _deliveries;
    readonly ConcurrentDictionary<EntryKey, byte> _held;
    readonly TimeSpan _housekeepingInterval;
    readonly PendingEntryKeeper _keeper;
    readonly GroupReader _reader;
    readonly UndeliverableEntries _undeliverable;
    readonly int _prefetch;
    readonly ConcurrentQueue<Delivery> _released;
    readonly EndpointStreams _streams;
    readonly AsyncSignal _wake;
    int _disarmed;
    int _heldCount;
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

        _wake = new AsyncSignal();
        _capacity = new AsyncSignal();
        _held = new ConcurrentDictionary<EntryKey, byte>();
        _released = new ConcurrentQueue<Delivery>();
        _deliveries = Channel.CreateUnbounded<Delivery>();
        _streams = new EndpointStreams(context, OnWake, Stopping);
        _keeper = new PendingEntryKeeper(_broker, _streams, this, Stopping);
        _reader = new GroupReader(_broker, _streams, _keeper, this);
        _undeliverable = new UndeliverableEntries(context);

        TrySetConsumeTask(Task.Run(Run));
    }

    public int FreeCapacity => _prefetch - Volatile.Read(ref _heldCount);

    public Task WaitForCapacity(CancellationToken cancellationToken) => _capacity.Wait(_broker.Settings.IdlePollInterval, cancellationToken);

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

                    await _reader.ReadOwnPending(Stopping).ConfigureAwait(false);
                    reading = true;
                    startKeeper();

                    await _context.TransportObservers.NotifyReady(_context.InputAddress).ConfigureAwait(false);
                    SetReady();
                }

                if (Interlocked.Exchange(ref _topologyChanged, 0) == 1)
                    await SetupStreams().ConfigureAwait(false);

                var capacity = FreeCapacity;
                if (capacity <= 0)
                {
                    await WaitForCapacity(Stopping).ConfigureAwait(false);
                    continue;
                }

                if (await _reader.ReadNew(capacity, everyStream: false).ConfigureAwait(false) > 0 || AnyMaybeHasEntries())
                    continue;

                // Every stream came back short. Unless the wake flags are known to be still set, arm them, then look once more:
                // an entry appended before the flags were set is found by this read, one appended after finds a flag and
                // publishes a wake-up.
                if (Interlocked.Exchange(ref _disarmed, 0) == 1 || DateTime.UtcNow >= armedUntil)
                {
                    await _broker.Client.ArmWake(StreamKeysOf(_streams.Streams), WakeFlagLifetime).ConfigureAwait(false);
                    armedUntil = DateTime.UtcNow + WakeFlagLifetime - _broker.Settings.IdlePollInterval - _broker.Settings.IdlePollInterval;

                    if (await _reader.ReadNew(capacity, everyStream: true).ConfigureAwait(false) > 0)
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
            if (await _undeliverable.TryDivert(delivery.Stream, delivery.Entry, delivery.DeliveryCount).ConfigureAwait(false))
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

    void Release(Delivery delivery)
    {
        if (_held.TryRemove(new EntryKey(delivery.Stream.Key, delivery.Entry.Id), out _))
        {
            Interlocked.Decrement(ref _heldCount);
            _capacity.Set();
        }
    }

    /// <summary>Hands the entries read but never started to the other instances (see <see cref="PendingEntryKeeper.Release" />).</summary>
    async Task ReleaseUnstarted()
    {
        var entries = new List<EntryKey>();
        while (_released.TryDequeue(out var delivery))
        {
            Release(delivery);
            entries.Add(new EntryKey(delivery.Stream.Key, delivery.Entry.Id));
        }

        await _keeper.Release(entries).ConfigureAwait(false);
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
