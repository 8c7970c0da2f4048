namespace MassTransit.RedisStreams.Transport;

using System;
using System.Threading;
using System.Threading.Tasks;
using Redis;


/// <summary>
/// Runs beside an endpoint's read loop and decides when its pending entries are looked after: the held ones are kept alive
/// every third of the claim timeout, idle ones are claimed every half of it (at once when another instance announces
/// released entries, and again shortly when a pass stopped early), and dead consumers are removed every half of the dead
/// consumer timeout, at most every five minutes.
/// </summary>
sealed class PendingEntryKeeper
{
    static readonly TimeSpan ClaimRetryDelay = TimeSpan.FromMilliseconds(200);

    readonly RedisStreamsBusContext _bus;
    readonly AsyncSignal _claimRequested;
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
    }

    /// <summary>Another instance released entries: claim now rather than at the next interval.</summary>
    public void RequestClaim() => _claimRequested.Set();

    public async Task Run()
    {
        var claimTimeout = _bus.Settings.ClaimTimeout;
        var keepAliveInterval = claimTimeout / 3;
        var claimInterval = claimTimeout / 2;
        var cleanupInterval = TimeSpan.FromTicks(Math.Min(_bus.Settings.DeadConsumerTimeout.Ticks / 2, TimeSpan.FromMinutes(5).Ticks));

        var now = DateTime.UtcNow;
        var nextKeepAlive = now + keepAliveInterval;
        var nextClaim = now;
        var nextCleanup = now + cleanupInterval;

        while (!_stopping.IsCancellationRequested)
        {
            var next = Min(Min(nextKeepAlive, nextClaim), nextCleanup);
            var wait = next - DateTime.UtcNow;

            bool requested;
            try
            {
                requested = wait > TimeSpan.Zero && await _claimRequested.Wait(wait, _stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            now = DateTime.UtcNow;
            try
            {
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
                // The read loop reports outages; this tries again at the next interval.
                LogContext.Debug?.Log(exception, "Pending entry maintenance failed, retrying: {Group}", _streams.Group);
            }
        }
    }

    static DateTime Min(DateTime x, DateTime y) => x < y ? x : y;
}
