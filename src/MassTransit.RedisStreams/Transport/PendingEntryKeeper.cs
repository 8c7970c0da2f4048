namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Redis;


/// <summary>
/// Runs beside an endpoint's read loop and decides when its pending entries are looked after: the held ones are kept alive
/// every third of the claim timeout, idle ones are claimed once per claim timeout (at once when another instance announces
/// released entries, and again shortly when a pass stopped early), the entries of an instance whose name lease ran out are
/// claimed as soon as the lease watch reports it, and dead consumers are removed every half of the dead consumer timeout,
/// at most every five minutes.
/// </summary>
sealed class PendingEntryKeeper
{
    static readonly TimeSpan ClaimRetryDelay = TimeSpan.FromMilliseconds(200);
    static readonly TimeSpan FailureRetryDelay = TimeSpan.FromSeconds(1);

    readonly RedisStreamsBusContext _bus;
    readonly AsyncSignal _claimRequested;
    readonly HashSet<string> _deadConsumers;
    readonly PendingEntries _pending;
    readonly CancellationToken _stopping;
    readonly EndpointStreams _streams;

    public PendingEntryKeeper(RedisStreamsBusContext bus, EndpointStreams streams, PendingEntries pending, CancellationToken stopping)
    {
        _bus = bus;
        _streams = streams;
        _pending = pending;
        _stopping = stopping;
        _claimRequested = new AsyncSignal();
        _deadConsumers = new HashSet<string>(StringComparer.Ordinal);
    }

    /// <summary>Another instance released entries: claim now rather than at the next interval.</summary>
    public void RequestClaim()
    {
        Interlocked.Exchange(ref _releaseAnnounced, 1);
        _claimRequested.Set();
    }

    int _releaseAnnounced;
    int _deathsReported;

    /// <summary>The name leases of these consumers ran out: claim their entries now.</summary>
    void OnConsumersDied(IReadOnlyList<string> consumers)
    {
        lock (_deadConsumers)
            _deadConsumers.UnionWith(consumers);

        Interlocked.Exchange(ref _deathsReported, 1);
        _claimRequested.Set();
    }

    /// <summary>Claims the entries of the dead consumers; false when some are left for the next round.</summary>
    async Task<bool> ClaimFromDead()
    {
        string[] dead;
        lock (_deadConsumers)
            dead = [.._deadConsumers];

        foreach (var consumer in dead)
        {
            if (!await _pending.ClaimFromDead(consumer).ConfigureAwait(false))
                return false;

            lock (_deadConsumers)
                _deadConsumers.Remove(consumer);
        }

        return true;
    }

    public async Task Run()
    {
        var identity = _bus.Identity;
        identity.ConsumersDied += OnConsumersDied;
        try
        {
            // Deaths reported before this endpoint started reading.
            OnConsumersDied(identity.RecentDeaths);

            await Maintain().ConfigureAwait(false);
        }
        finally
        {
            identity.ConsumersDied -= OnConsumersDied;
        }
    }

    async Task Maintain()
    {
        var claimTimeout = _bus.Settings.ClaimTimeout;
        var keepAliveInterval = claimTimeout / 3;
        // Crashed instances of this transport are found by their lease; the idle claim is for consumers without one (another
        // program in the group, an instance of an older version), so once per claim timeout is often enough.
        var claimInterval = claimTimeout;
        var cleanupInterval = TimeSpan.FromTicks(Math.Min(_bus.Settings.DeadConsumerTimeout.Ticks / 2, TimeSpan.FromMinutes(5).Ticks));

        var now = DateTime.UtcNow;
        var nextKeepAlive = now + keepAliveInterval;
        var nextClaim = now;
        var nextCleanup = now + cleanupInterval;
        var nextDeadClaim = DateTime.MaxValue;

        while (!_stopping.IsCancellationRequested)
        {
            var next = Min(Min(Min(nextKeepAlive, nextClaim), nextCleanup), nextDeadClaim);
            var wait = next - DateTime.UtcNow;

            try
            {
                if (wait > TimeSpan.Zero)
                    await _claimRequested.Wait(wait, _stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            now = DateTime.UtcNow;
            var requested = Interlocked.Exchange(ref _releaseAnnounced, 0) == 1;
            if (Interlocked.Exchange(ref _deathsReported, 0) == 1)
                nextDeadClaim = now;

            try
            {
                if (now >= nextDeadClaim)
                {
                    // One round per death and endpoint; a round cut short because the endpoint was full continues shortly.
                    nextDeadClaim = DateTime.MaxValue;
                    nextDeadClaim = await ClaimFromDead().ConfigureAwait(false) ? DateTime.MaxValue : now + ClaimRetryDelay;
                }

                if (now >= nextKeepAlive)
                {
                    await _pending.KeepAlive().ConfigureAwait(false);
                    nextKeepAlive = now + keepAliveInterval;
                }

                if (requested || now >= nextClaim)
                {
                    // A pass cut short because the endpoint was full is finished as soon as there is room, not an interval later:
                    // released entries and those of a crashed instance should not wait behind a busy stream.
                    nextClaim = await _pending.ClaimIdle().ConfigureAwait(false) ? now + claimInterval : now + ClaimRetryDelay;
                }

                if (now >= nextCleanup)
                {
                    await _streams.RemoveDeadConsumers().ConfigureAwait(false);
                    nextCleanup = now + cleanupInterval;
                }
            }
            catch (Exception exception) when (TransientFailures.IsRedisFailure(exception))
            {
                // The read loop reports outages; this tries again at the next interval, and the claim from dead consumers soon.
                LogContext.Debug?.Log(exception, "Pending entry maintenance failed, retrying: {Group}", _streams.Group);

                bool deadLeft;
                lock (_deadConsumers)
                    deadLeft = _deadConsumers.Count > 0;

                if (deadLeft)
                    nextDeadClaim = Min(nextDeadClaim, now + FailureRetryDelay);
            }
        }
    }

    static DateTime Min(DateTime x, DateTime y) => x < y ? x : y;
}
