namespace MassTransit.RedisStreams.Transport;

using System;
using System.Threading;
using System.Threading.Tasks;
using Redis;
using Support;
using Transports;


/// <summary>
/// The read loop of one receive endpoint: sets the endpoint up in Redis, reads its streams into the buffer while there is
/// room, sleeps while they are empty, and reports the endpoint's health. No error ends it: it reports the fault, backs off,
/// sets the endpoint up again and carries on.
/// </summary>
/// <remarks>
/// Idle, an endpoint with a connection of its own waits in a blocking read, which Redis answers the moment an entry arrives
/// (<see cref="BlockingWait" />). One without (beyond the bus's limit, on a Redis Cluster with streams in several slots, or
/// while that connection is down) waits for wake-ups, without busy polling: once a read finds the streams empty, the next
/// read also arms their wake flags, in the same step; if that one finds nothing either, the loop sleeps until an append
/// publishes a wake-up, the connection changes or
/// <see cref="RedisStreamsTransportOptions.IdlePollInterval" /> passes. A flag outlives several polls, so an idle endpoint
/// arms again only every few polls, after a wake-up cleared a flag, after setup and after a connection change.
/// </remarks>
sealed class ReadLoop
{
    static readonly TimeSpan MinWakeFlagLifetime = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How often the streams are set up again as a safety net; a lost connection, a new derived type and a missing group
    /// (NOGROUP) set them up at once.
    /// </summary>
    static readonly TimeSpan SetupInterval = TimeSpan.FromMinutes(5);

    static readonly TimeSpan MaxExpiryRenewalInterval = TimeSpan.FromSeconds(30);

    /// <summary>How often an idle endpoint polls while one of its wake channels has no live subscription.</summary>
    static readonly TimeSpan UnsubscribedPollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>How often an idle endpoint looks whether its wake subscriptions moved to another server while it waits.</summary>
    static readonly TimeSpan SubscriptionCheckInterval = TimeSpan.FromSeconds(1);

    readonly EntryBuffer _buffer;
    readonly IEndpointStatus _endpoint;
    readonly TimeSpan _expiryRenewalInterval;
    readonly TimeSpan _idlePollInterval;
    readonly bool _temporary;
    readonly PendingEntries _pending;
    readonly GroupReader _reader;
    readonly EndpointSignals _signals;
    readonly CancellationToken _stopping;
    readonly IEndpointStreams _streams;
    readonly TimeProvider _time;
    /// <summary>Waits in blocking reads; null (as in the unit tests, or without readers) to wait for wake-ups only.</summary>
    readonly BlockingWait? _blocking;

    public ReadLoop(IEndpointStatus endpoint, ReadLoopSettings settings, IEndpointStreams streams, EntryBuffer buffer, PendingEntries pending,
        GroupReader reader, EndpointSignals signals, TimeProvider time, CancellationToken stopping, BlockingReads? readers = null)
    {
        if (readers != null)
            _blocking = new BlockingWait(readers, endpoint, streams, pending, reader, signals, settings.IdlePollInterval, time, stopping);
        _endpoint = endpoint;
        _streams = streams;
        _buffer = buffer;
        _pending = pending;
        _reader = reader;
        _signals = signals;
        _time = time;
        _stopping = stopping;

        _idlePollInterval = settings.IdlePollInterval;
        _temporary = settings.Temporary;

        // A temporary stream's expiry is renewed well before it runs out.
        var expiry = settings.TemporaryStreamExpiry;
        _expiryRenewalInterval = TimeSpan.FromTicks(Math.Min(expiry.Ticks / 3, MaxExpiryRenewalInterval.Ticks));
    }

    /// <summary>
    /// How long an armed wake flag lives: a minute, or four polls if that is longer, so that an idle endpoint renews its flags
    /// rarely. A flag outliving its reader costs one needless PUBLISH at the next append, which clears it.
    /// </summary>
    TimeSpan WakeFlagLifetime => _idlePollInterval * 4 > MinWakeFlagLifetime ? _idlePollInterval * 4 : MinWakeFlagLifetime;

    DateTimeOffset Now => _time.GetUtcNow();

    /// <param name="startedReading">Called once the endpoint has read its own pending entries and reads new ones.</param>
    public async Task Run(Action startedReading)
    {
        var failures = 0;
        var delays = new RetryDelays();
        var healthy = false;
        var reading = false;
        var drained = false;
        var armedUntil = DateTimeOffset.MinValue;
        string? armedSubscriptions = null;
        var nextSetup = Now + SetupInterval;
        var nextExpiryRenewal = Now + _expiryRenewalInterval;

        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                try
                {
                    if (!healthy)
                    {
                        await SetupStreams().ConfigureAwait(false);

                        healthy = true;
                        failures = 0;
                        delays.Reset();
                        reading = false;

                        if (!_endpoint.Connected.IsCompleted)
                            await _endpoint.NotifyReady(false).ConfigureAwait(false);
                    }

                    if (Now >= nextSetup)
                    {
                        await SetupStreams().ConfigureAwait(false);
                        nextSetup = Now + SetupInterval;
                        nextExpiryRenewal = Now + _expiryRenewalInterval;
                    }
                    else if (_temporary && Now >= nextExpiryRenewal)
                    {
                        await _streams.RenewExpiry().ConfigureAwait(false);
                        nextExpiryRenewal = Now + _expiryRenewalInterval;
                    }

                    if (!reading)
                    {
                        if (!_endpoint.Connected.IsCompleted)
                        {
                            await WaitUntilConnected().ConfigureAwait(false);
                            continue;
                        }

                        // Ready once the groups exist and the wake-ups are subscribed: what is published from now on is kept for the
                        // endpoint. Its own pending entries are read first all the same, before any new one.
                        await _endpoint.NotifyReady(true).ConfigureAwait(false);

                        await _pending.ReadOwn(_idlePollInterval, _time, _stopping).ConfigureAwait(false);
                        reading = true;
                        startedReading();
                    }

                    if (_signals.TakeTopologyChanged())
                        await SetupStreams().ConfigureAwait(false);

                    // A round reads at least one entry of every stream, so that it knows where each stream stands, even with less room
                    // than that: the handler that waits for one more message (a batch consumer at its PrefetchCount) gets it. So an
                    // endpoint holds at most PrefetchCount + streams - 1 entries. With no room at all it waits, and while claims of a
                    // dead instance's entries wait for room, nothing new is read.
                    var capacity = _buffer.FreeForReading;
                    var streamCount = _streams.Streams.Length;
                    if (capacity <= 0)
                    {
                        var handling = _buffer.Count > _buffer.HeldBackCount;
                        if (handling || _buffer.FreeCapacity > capacity)
                        {
                            await _buffer.WaitForCapacity(_idlePollInterval, _time, _stopping).ConfigureAwait(false);
                            continue;
                        }

                        // Nothing is being handled, so nothing would free room: the entries held are waiting for an older one still
                        // unread. One of each beyond the limit settles it.
                    }

                    capacity = Math.Max(capacity, streamCount);

                    // A wake-up that arrives from here on is for entries this read may miss, so it must end the wait below.
                    _signals.Reader.Reset();

                    // Everything was read: with a connection of its own, the endpoint waits in the read itself, which Redis answers
                    // the moment an entry arrives. Without one (none left, or not connected yet, or lost), it waits for wake-ups.
                    // Not while entries are held back: a round that read its streams one after the other can leave the newest
                    // ones waiting for the next round to find the streams before them still empty, and a blocked read would make
                    // them wait for a new entry or the end of the block time. The next round reads without blocking instead.
                    if (drained && BlockingReader() is { } blockingReader)
                    {
                        if (await _blocking!.Read(blockingReader, capacity).ConfigureAwait(false) is { } blocked)
                        {
                            drained = blocked.Drained;

                            // The entries just read go first (see below).
                            if (blocked.Read > 0)
                                await Task.Yield();
                            continue;
                        }

                        // The reader's connection failed: wake-ups from here on, which the flags armed next make sure of.
                        drained = false;
                        continue;
                    }

                    // Flags are armed together with a read, once the streams were found empty, so that no append falls between
                    // the read and the arming: an entry appended before is read, one appended after publishes a wake-up.
                    var arm = drained && (_signals.TakeRearm() || Now >= armedUntil);
                    ReadResult result;
                    try
                    {
                        result = await _reader.ReadNew(capacity, arm ? WakeFlagLifetime : null).ConfigureAwait(false);
                    }
                    catch
                    {
                        if (arm)
                            _signals.RequestRearm();
                        throw;
                    }

                    if (arm)
                    {
                        armedUntil = Now + WakeFlagLifetime - _idlePollInterval - _idlePollInterval;
                        armedSubscriptions = _streams.WakeSubscriptions;
                    }

                    drained = result.Drained;

                    // While entries keep coming, reading again at once is cheaper than a wake-up for each one. The entries just read
                    // go first: a worker woken for them waits in the thread pool's queue, and without the yield this thread would
                    // write the next read before taking it (30-40 µs of a lone message's latency on an idle machine).
                    if (result.Read > 0 || !result.Drained)
                    {
                        if (result.Read > 0)
                            await Task.Yield();
                        continue;
                    }

                    // Empty, and nothing held back (this round released what an earlier one held): an endpoint with a reader of
                    // its own waits in a blocked read rather than for a wake-up.
                    if (BlockingReader() is not null)
                        continue;

                    // Empty, but the flags may be gone: the next round arms them.
                    if (_signals.RearmRequested || Now >= armedUntil)
                        continue;

                    // A wake channel without a live subscription (its server failed and the client has not subscribed again yet; on
                    // a cluster, until it knows the slot's new primary) would not hear the next wake-up: poll soon, and arm again.
                    var subscriptions = _streams.WakeSubscriptions;
                    if (subscriptions == null)
                    {
                        _signals.RequestRearm();
                        await _signals.Reader.Wait(_idlePollInterval < UnsubscribedPollInterval ? _idlePollInterval : UnsubscribedPollInterval, _time, _stopping)
                            .ConfigureAwait(false);
                        continue;
                    }

                    // A subscription that moved to another server since the flags were armed (a slot moved, a failover) may have
                    // missed the wake-up of an append in between, which cleared its flag: read again, and arm again.
                    if (subscriptions != armedSubscriptions)
                    {
                        _signals.RequestRearm();
                        continue;
                    }

                    // Nothing is left unread and the flags are set: the next append publishes a wake-up. The poll bounds how late
                    // entries appended by other writers, or whose wake-up was lost, are seen.
                    await WaitForWakeUp(subscriptions).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception exception)
                {
                    healthy = false;
                    drained = false;
                    failures++;

                    // The endpoint reads its own pending entries again once it is set up; entries held back are among them.
                    _reader.Reset();

                    if (failures == 1)
                    {
                        LogContext.Warning?.Log(exception, "Receive from Redis failed, retrying: {InputAddress}", _endpoint.InputAddress);

                        await _endpoint.NotifyFaulted(exception).ConfigureAwait(false);
                    }

                    try
                    {
                        await Task.Delay(delays.Next(exception), _time, _stopping).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            }
        }
        finally
        {
            _blocking?.GiveBack();
        }
    }

    /// <summary>
    /// The reader to wait in a blocked read with, once the streams were found empty: none while an entry is held back (the next
    /// round, not blocking, releases it) or while the endpoint has no reader of its own.
    /// </summary>
    BlockingReader? BlockingReader() => _buffer.HeldBackCount == 0 ? _blocking?.TryReader() : null;

    /// <summary>
    /// Waits for a wake-up, at most <see cref="RedisStreamsTransportOptions.IdlePollInterval" />, and ends the wait early when a
    /// wake subscription moves to another server or is lost meanwhile: a wake-up published during the move may not reach this
    /// process.
    /// </summary>
    async Task WaitForWakeUp(string subscriptions)
    {
        var deadline = Now + _idlePollInterval;
        while (true)
        {
            var left = deadline - Now;
            if (left <= TimeSpan.Zero)
            {
                Diagnostics.TransportMetrics.CountIdleWait(_streams.Group, woken: false);
                return;
            }

            if (await _signals.Reader.Wait(left < SubscriptionCheckInterval ? left : SubscriptionCheckInterval, _time, _stopping).ConfigureAwait(false))
            {
                Diagnostics.LatencyTrace.Mark(Diagnostics.LatencyStage.ReaderWoken);
                Diagnostics.TransportMetrics.CountIdleWait(_streams.Group, woken: true);
                return;
            }

            if (_streams.WakeSubscriptions != subscriptions)
            {
                _signals.RequestRearm();
                return;
            }

            // On a cluster, a wake-up published on the node a slot is moving to does not reach a subscription still on the
            // node that owns it; the flag that append cleared says so.
            if (await _streams.AnyWakeFlagCleared().ConfigureAwait(false))
            {
                Diagnostics.TransportMetrics.CountIdleWait(_streams.Group, woken: true);
                _signals.RequestRearm();
                return;
            }
        }
    }

    /// <summary>
    /// An endpoint with nothing connected yet (the bus endpoint before a request client connects its response handler) reads
    /// nothing that nothing would consume; it only notices when the connection fails, so that health reflects the outage for
    /// it too.
    /// </summary>
    async Task WaitUntilConnected()
    {
        var connected = _endpoint.Connected;
        var woken = _signals.Reader.Wait(_expiryRenewalInterval, _time, _stopping);
        if (await Task.WhenAny(connected, woken).ConfigureAwait(false) == woken && !connected.IsCompleted)
            await _streams.Ping().ConfigureAwait(false);
    }

    async Task SetupStreams()
    {
        await _streams.Setup().ConfigureAwait(false);

        // Streams may have been added, or Redis may have lost the flags with its data.
        _signals.RequestRearm();
    }
}
