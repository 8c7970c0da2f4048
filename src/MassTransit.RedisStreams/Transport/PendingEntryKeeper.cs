namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Redis;
using Support;


/// <summary>
/// Runs beside an endpoint's read loop and decides when its pending entries are looked after: the entries of an instance whose
/// name lease ran out are claimed as soon as the lease watch reports it, ahead of new entries (reading stops until they are in
/// the buffer); the held ones are kept alive every third of the claim timeout, and checked at once when this instance's own
/// lease may have lapsed; idle ones are claimed once per claim timeout (at once when another instance announces released
/// entries, and again shortly when a pass stopped early); dead consumers are removed every half of the dead consumer timeout,
/// at most every five minutes.
/// </summary>
sealed class PendingEntryKeeper
{
    static readonly TimeSpan ClaimRetryDelay = TimeSpan.FromMilliseconds(200);
    static readonly TimeSpan FailureRetryDelay = TimeSpan.FromSeconds(1);

    readonly EntryBuffer _buffer;
    readonly TimeSpan _claimTimeout;
    readonly TimeSpan _cleanupInterval;
    readonly Dictionary<string, long> _deadConsumers;
    readonly PendingEntries _pending;
    readonly EndpointSignals _signals;
    readonly CancellationToken _stopping;
    readonly IEndpointStreams _streams;
    readonly TimeProvider _time;
    bool _claimsBegun;

    public PendingEntryKeeper(PendingEntries pending, IEndpointStreams streams, EntryBuffer buffer, EndpointSignals signals, TimeSpan claimTimeout,
        TimeSpan deadConsumerTimeout, TimeProvider time, CancellationToken stopping)
    {
        _pending = pending;
        _streams = streams;
        _buffer = buffer;
        _signals = signals;
        _claimTimeout = claimTimeout;
        _cleanupInterval = TimeSpan.FromTicks(Math.Min(deadConsumerTimeout.Ticks / 2, TimeSpan.FromMinutes(5).Ticks));
        _time = time;
        _stopping = stopping;
        _deadConsumers = new Dictionary<string, long>(StringComparer.Ordinal);
    }

    /// <summary>The name leases of these consumers ran out: claim their entries now, before reading more new ones.</summary>
    public void OnConsumersDied(IReadOnlyList<ConsumerDeath> deaths)
    {
        if (deaths.Count == 0)
            return;

        lock (_deadConsumers)
        {
            // A later death of the same name counts from when it was noticed: what the name touched before is free to claim.
            foreach (var death in deaths)
                _deadConsumers[death.Name] = _deadConsumers.TryGetValue(death.Name, out var noticedAt) ? Math.Max(noticedAt, death.NoticedAt) : death.NoticedAt;

            if (!_claimsBegun)
            {
                _claimsBegun = true;
                _buffer.BeginClaims();
            }
        }

        _signals.RequestDeadClaim();
    }

    /// <summary>Runs until the endpoint stops; <paramref name="recentDeaths" /> were reported before the endpoint started reading.</summary>
    public async Task Run(IReadOnlyList<ConsumerDeath> recentDeaths)
    {
        OnConsumersDied(recentDeaths);
        try
        {
            await Maintain().ConfigureAwait(false);
        }
        finally
        {
            lock (_deadConsumers)
            {
                if (_claimsBegun)
                {
                    _claimsBegun = false;
                    _buffer.EndClaims();
                }
            }
        }
    }

    async Task Maintain()
    {
        var keepAliveInterval = _claimTimeout / 3;

        // Crashed instances of this transport are found by their lease; the idle claim is for consumers without one (another
        // program in the group, an instance of an older version), so once per claim timeout is often enough.
        var now = _time.GetUtcNow();
        var nextKeepAlive = now + keepAliveInterval;
        var nextClaim = now;
        var nextCleanup = now + _cleanupInterval;
        var nextDeadClaim = DateTimeOffset.MaxValue;

        while (!_stopping.IsCancellationRequested)
        {
            var next = Min(Min(Min(nextKeepAlive, nextClaim), nextCleanup), nextDeadClaim);
            try
            {
                await _signals.Keeper.Wait(next - _time.GetUtcNow(), _time, _stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            now = _time.GetUtcNow();
            var (deaths, released, lapsed) = _signals.TakeKeeperRequests();
            if (deaths)
                nextDeadClaim = now;
            if (lapsed)
                nextKeepAlive = now;

            try
            {
                if (now >= nextDeadClaim)
                {
                    // One round per death; a round cut short because the endpoint was full goes on as soon as room frees up (the
                    // buffer asks for it when an entry is done), or after a short delay.
                    nextDeadClaim = await ClaimFromDead().ConfigureAwait(false) ? DateTimeOffset.MaxValue : now + ClaimRetryDelay;
                }

                if (now >= nextKeepAlive)
                {
                    await _pending.KeepAlive().ConfigureAwait(false);
                    nextKeepAlive = now + keepAliveInterval;
                }

                if (released || now >= nextClaim)
                {
                    // A pass cut short because the endpoint was full is finished as soon as there is room, not an interval later:
                    // released entries should not wait behind a busy stream.
                    nextClaim = await _pending.ClaimIdle().ConfigureAwait(false) ? now + _claimTimeout : now + ClaimRetryDelay;
                }

                if (now >= nextCleanup)
                {
                    await _streams.RemoveDeadConsumers().ConfigureAwait(false);
                    nextCleanup = now + _cleanupInterval;
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // The read loop reports outages; this tries again at the next interval, the claim from dead consumers and the
                // check after a lapse soon. Anything else is a defect, logged as one, and the keeper goes on all the same: the
                // entries it keeps alive must not be left to others' claims.
                if (TransientFailures.IsRedisFailure(exception))
                    LogContext.Debug?.Log(exception, "Pending entry maintenance failed, retrying: {Group}", _streams.Group);
                else
                    LogContext.Error?.Log(exception, "Pending entry maintenance failed unexpectedly, retrying: {Group}", _streams.Group);

                lock (_deadConsumers)
                {
                    if (_deadConsumers.Count > 0)
                        nextDeadClaim = Min(nextDeadClaim, now + FailureRetryDelay);
                }

                // What was due and did not get done is tried again after a pause, not at once in a loop.
                var retryAt = now + FailureRetryDelay;
                nextDeadClaim = nextDeadClaim <= now ? retryAt : nextDeadClaim;
                nextKeepAlive = nextKeepAlive <= now ? retryAt : nextKeepAlive;
                nextClaim = nextClaim <= now ? retryAt : nextClaim;
                nextCleanup = nextCleanup <= now ? retryAt : nextCleanup;
            }
        }
    }

    /// <summary>Claims the entries of the dead consumers; false when some are left for when there is room.</summary>
    async Task<bool> ClaimFromDead()
    {
        KeyValuePair<string, long>[] dead;
        lock (_deadConsumers)
            dead = [.._deadConsumers];

        foreach (var (consumer, noticedAt) in dead)
        {
            if (!await _pending.ClaimFromDead(consumer, () => _time.GetElapsedTime(noticedAt)).ConfigureAwait(false))
                return false;

            // Reported dead again meanwhile: claimed again, from the later death.
            lock (_deadConsumers)
            {
                if (_deadConsumers.TryGetValue(consumer, out var latest) && latest == noticedAt)
                    _deadConsumers.Remove(consumer);
            }
        }

        lock (_deadConsumers)
        {
            if (_deadConsumers.Count > 0 || !_claimsBegun)
                return _deadConsumers.Count == 0;

            _claimsBegun = false;
            _buffer.EndClaims();
        }

        return true;
    }

    static DateTimeOffset Min(DateTimeOffset x, DateTimeOffset y) => x < y ? x : y;
}
