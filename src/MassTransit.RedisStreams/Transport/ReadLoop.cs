namespace MassTransit.RedisStreams.Transport;

using System;
using System.Threading;
using System.Threading.Tasks;
using Redis;
using Transports;


/// <summary>
/// The read loop of one receive endpoint: sets the endpoint up in Redis, reads its streams into the buffer while there is
/// room, sleeps while they are empty, and reports the endpoint's health. No error ends it: it reports the fault, backs off,
/// sets the endpoint up again and carries on.
/// </summary>
/// <remarks>
/// Idle without busy polling: once a read finds the streams empty, the next read also arms their wake flags, in the same
/// step; if that one finds nothing either, the loop sleeps until an append publishes a wake-up, the connection changes or
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
    readonly RedisStreamsBusContext _bus;
    readonly RedisStreamsReceiveEndpointContext _context;
    readonly TimeSpan _expiryRenewalInterval;
    readonly PendingEntries _pending;
    readonly GroupReader _reader;
    readonly CancellationToken _stopping;
    readonly EndpointStreams _streams;
    readonly AsyncSignal _wake;
    int _rearmWakeFlags;
    int _topologyChanged;

    public ReadLoop(RedisStreamsReceiveEndpointContext context, EndpointStreams streams, EntryBuffer buffer, PendingEntries pending,
        GroupReader reader, CancellationToken stopping)
    {
        _context = context;
        _bus = context.BusContext;
        _streams = streams;
        _buffer = buffer;
        _pending = pending;
        _stopping = stopping;
        _reader = reader;
        _wake = new AsyncSignal();

        // A temporary stream's expiry is renewed well before it runs out.
        var expiry = _bus.Settings.TemporaryStreamExpiry;
        _expiryRenewalInterval = TimeSpan.FromTicks(Math.Min(expiry.Ticks / 3, MaxExpiryRenewalInterval.Ticks));
    }

    TimeSpan IdlePollInterval => _bus.Settings.IdlePollInterval;

    /// <summary>
    /// How long an armed wake flag lives: a minute, or four polls if that is longer, so that an idle endpoint renews its flags
    /// rarely. A flag outliving its reader costs one needless PUBLISH at the next append, which clears it.
    /// </summary>
    TimeSpan WakeFlagLifetime => IdlePollInterval * 4 > MinWakeFlagLifetime ? IdlePollInterval * 4 : MinWakeFlagLifetime;

    /// <summary>An append cleared a wake flag of one of the endpoint's streams and announced new entries.</summary>
    public void OnEntriesAppended()
    {
        Interlocked.Exchange(ref _rearmWakeFlags, 1);
        _wake.Set();
    }

    /// <summary>A publisher recorded a new type derived from one the endpoint consumes: its stream must be read too.</summary>
    public void OnTopologyChanged()
    {
        Interlocked.Exchange(ref _topologyChanged, 1);
        _wake.Set();
    }

    /// <summary>The connection failed or came back: a restarted server has lost the flags, and wake-ups may have been missed.</summary>
    public void OnConnectionChanged()
    {
        Interlocked.Exchange(ref _rearmWakeFlags, 1);

        // A derived type announced while the connection was down was missed.
        Interlocked.Exchange(ref _topologyChanged, 1);
        _wake.Set();
    }

    /// <param name="startedReading">Called once the endpoint has read its own pending entries and reads new ones.</param>
    public async Task Run(Action startedReading)
    {
        var failures = 0;
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5));
        var healthy = false;
        var reading = false;
        var drained = false;
        var emptyPartialRounds = 0;
        var armedUntil = DateTime.MinValue;
        string? armedSubscriptions = null;
        var nextSetup = DateTime.UtcNow + SetupInterval;
        var nextExpiryRenewal = DateTime.UtcNow + _expiryRenewalInterval;

        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                if (!healthy)
                {
                    await SetupStreams().ConfigureAwait(false);

                    healthy = true;
                    failures = 0;
                    backoff.Reset();
                    reading = false;

                    if (!_context.ReceivePipe.Connected.IsCompleted)
                        await _context.TransportObservers.NotifyReady(_context.InputAddress, false).ConfigureAwait(false);
                }

                if (DateTime.UtcNow >= nextSetup)
                {
                    await SetupStreams().ConfigureAwait(false);
                    nextSetup = DateTime.UtcNow + SetupInterval;
                    nextExpiryRenewal = DateTime.UtcNow + _expiryRenewalInterval;
                }
                else if (_context.Temporary && DateTime.UtcNow >= nextExpiryRenewal)
                {
                    await _streams.RenewExpiry().ConfigureAwait(false);
                    nextExpiryRenewal = DateTime.UtcNow + _expiryRenewalInterval;
                }

                if (!reading)
                {
                    if (!_context.ReceivePipe.Connected.IsCompleted)
                    {
                        await WaitUntilConnected().ConfigureAwait(false);
                        continue;
                    }

                    await _pending.ReadOwn(_stopping).ConfigureAwait(false);
                    reading = true;

                    await _context.TransportObservers.NotifyReady(_context.InputAddress).ConfigureAwait(false);
                    startedReading();
                }

                if (Interlocked.Exchange(ref _topologyChanged, 0) == 1)
                    await SetupStreams().ConfigureAwait(false);

                // A round reads at least one entry of every stream, so that it knows where each stream stands; with less room
                // than that, a partial round reads the streams that hold the others back first.
                var capacity = _buffer.FreeCapacity;
                var streamCount = _streams.Streams.Length;
                var handling = _buffer.Count > _reader.HeldBackCount;
                var partial = false;
                if (capacity < streamCount)
                {
                    if (handling)
                    {
                        if (capacity <= 0)
                        {
                            await _buffer.WaitForCapacity(_stopping).ConfigureAwait(false);
                            continue;
                        }

                        partial = true;
                    }
                    else
                    {
                        // Nothing is being handled, so nothing would free room: the entries held are waiting for an older one
                        // still unread, or the endpoint reads more streams than PrefetchCount. One of each beyond the limit
                        // settles it.
                        capacity = streamCount;
                    }
                }

                // A wake-up that arrives from here on is for entries this read may miss, so it must end the wait below.
                _wake.Reset();

                // Flags are armed together with a read, once the streams were found empty, so that no append falls between
                // the read and the arming: an entry appended before is read, one appended after publishes a wake-up.
                var arm = drained && !partial && (Interlocked.Exchange(ref _rearmWakeFlags, 0) == 1 || DateTime.UtcNow >= armedUntil);
                ReadResult result;
                try
                {
                    result = await _reader.ReadNew(capacity, arm ? WakeFlagLifetime : null).ConfigureAwait(false);
                }
                catch
                {
                    if (arm)
                        Interlocked.Exchange(ref _rearmWakeFlags, 1);
                    throw;
                }

                if (arm)
                {
                    armedUntil = DateTime.UtcNow + WakeFlagLifetime - IdlePollInterval - IdlePollInterval;
                    armedSubscriptions = _streams.WakeSubscriptions;
                }

                drained = result.Drained;

                if (result.Read > 0)
                    emptyPartialRounds = 0;

                // While entries keep coming, reading again at once is cheaper than a wake-up for each one.
                if (result.Read > 0 || !result.Drained && !partial)
                    continue;

                // A partial round found nothing: the next one takes the streams it left out, and once every stream was found
                // empty in turn, the rest are read when a handled entry frees room.
                if (partial)
                {
                    if (++emptyPartialRounds < streamCount)
                        continue;

                    emptyPartialRounds = 0;
                    await _buffer.WaitForCapacity(_stopping).ConfigureAwait(false);
                    continue;
                }

                // Empty, but the flags may be gone: the next round arms them.
                if (Volatile.Read(ref _rearmWakeFlags) == 1 || DateTime.UtcNow >= armedUntil)
                    continue;

                // A wake channel without a live subscription (its server failed and the client has not subscribed again yet; on
                // a cluster, until it knows the slot's new primary) would not hear the next wake-up: poll soon, and arm again.
                var subscriptions = _streams.WakeSubscriptions;
                if (subscriptions == null)
                {
                    Interlocked.Exchange(ref _rearmWakeFlags, 1);
                    await _wake.Wait(IdlePollInterval < UnsubscribedPollInterval ? IdlePollInterval : UnsubscribedPollInterval, _stopping)
                        .ConfigureAwait(false);
                    continue;
                }

                // A subscription that moved to another server since the flags were armed (a slot moved, a failover) may have
                // missed the wake-up of an append in between, which cleared its flag: read again, and arm again.
                if (subscriptions != armedSubscriptions)
                {
                    Interlocked.Exchange(ref _rearmWakeFlags, 1);
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
                    LogContext.Warning?.Log(exception, "Receive from Redis failed, retrying: {InputAddress}", _context.InputAddress);

                    await _context.TransportObservers.NotifyFaulted(_context.InputAddress, _context.ConvertException(exception, "Redis receive failed: "))
                        .ConfigureAwait(false);
                }

                await backoff.Wait(_stopping).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Waits for a wake-up, at most <see cref="IdlePollInterval" />, and ends the wait early when a wake subscription moves
    /// to another server or is lost meanwhile: a wake-up published during the move may not reach this process.
    /// </summary>
    async Task WaitForWakeUp(string subscriptions)
    {
        var deadline = DateTime.UtcNow + IdlePollInterval;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
                return;

            if (await _wake.Wait(left < SubscriptionCheckInterval ? left : SubscriptionCheckInterval, _stopping).ConfigureAwait(false))
                return;

            if (_streams.WakeSubscriptions != subscriptions)
            {
                Interlocked.Exchange(ref _rearmWakeFlags, 1);
                return;
            }

            // On a cluster, a wake-up published on the node a slot is moving to does not reach a subscription still on the
            // node that owns it; the flag that append cleared says so.
            if (await _streams.AnyWakeFlagCleared().ConfigureAwait(false))
            {
                Interlocked.Exchange(ref _rearmWakeFlags, 1);
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
        var connected = _context.ReceivePipe.Connected;
        var woken = _wake.Wait(_expiryRenewalInterval, _stopping);
        if (await Task.WhenAny(connected, woken).ConfigureAwait(false) == woken && !connected.IsCompleted)
            await _bus.Client.Ping().ConfigureAwait(false);
    }

    async Task SetupStreams()
    {
        await _streams.Setup().ConfigureAwait(false);

        // Streams may have been added, or Redis may have lost the flags with its data.
        Interlocked.Exchange(ref _rearmWakeFlags, 1);
    }
}
