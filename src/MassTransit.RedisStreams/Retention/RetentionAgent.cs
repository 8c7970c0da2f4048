namespace MassTransit.RedisStreams.Retention;

using System;
using System.Threading;
using System.Threading.Tasks;
using Middleware;
using Redis;
using Transport;


/// <summary>
/// Trims the bus's streams in the background while the bus runs: every interval, the instance that holds the retention
/// lease trims the next batch of streams. Running instances take turns only when the holder stops or dies. Every instance
/// also renews the hold of its own host record here.
/// </summary>
sealed class RetentionAgent :
    Agent
{
    readonly RedisStreamsBusContext _bus;
    readonly string _holder;
    readonly Task _loop;
    readonly TaskCompletionSource _stop;

    public RetentionAgent(RedisStreamsBusContext bus)
    {
        _bus = bus;
        _holder = Guid.NewGuid().ToString("N");
        _stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        SetReady();
        _loop = Task.Run(Run);
    }

    RetentionSettings Settings => _bus.HostConfiguration.Retention;

    async Task Run()
    {
        var leaseTime = Settings.Interval * 3;
        var holding = false;

        using var timer = new PeriodicTimer(Settings.Interval, _bus.Time);
        while (true)
        {
            var tick = timer.WaitForNextTickAsync().AsTask();
            if (await Task.WhenAny(tick, _stop.Task).ConfigureAwait(false) == _stop.Task)
                break;

            try
            {
                // Every instance, holder or not, keeps its own host record held while it runs, even when it writes nothing.
                await _bus.Hosts.RenewOwn().ConfigureAwait(false);

                var key = _bus.Keys.RetentionLease;
                holding = holding && await _bus.Redis.Leases.Renew(key, _holder, leaseTime).ConfigureAwait(false)
                    || await _bus.Redis.Leases.TryTake(key, _holder, leaseTime).ConfigureAwait(false);
                if (!holding)
                    continue;

                // A pass is bounded by StreamsPerPass; a stop waits for it to end.
                var report = await _bus.Trimmer.TrimNext(Settings.StreamsPerPass, CancellationToken.None).ConfigureAwait(false);
                foreach (var removed in report.Removed)
                    Diagnostics.TransportMetrics.CountTrimmed(removed.Key, removed.Value);
                if (report.TotalRemoved > 0 || report.RemovedGroups.Count > 0 || report.RemovedHostRecords > 0 || report.RemovedDelayedStreams > 0)
                {
                    LogContext.Info?.Log(
                        "Retention removed {Count} entries from {Streams} of {Examined} streams; removed groups: {Groups}, host records: {HostRecords}, delayed streams: {DelayedStreams}",
                        report.TotalRemoved, report.Removed.Count, report.StreamsExamined, report.RemovedGroups.Count, report.RemovedHostRecords,
                        report.RemovedDelayedStreams);
                }
            }
            catch (Exception exception) when (TransientFailures.IsRedisFailure(exception))
            {
                LogContext.Debug?.Log(exception, "Retention pass failed; trying again at the next interval");
            }
        }

        if (holding)
        {
            try
            {
                await _bus.Redis.Leases.Release(_bus.Keys.RetentionLease, _holder).ConfigureAwait(false);
            }
            catch (Exception exception) when (TransientFailures.IsRedisFailure(exception))
            {
                LogContext.Debug?.Log(exception, "Releasing the retention lease failed; it expires by itself");
            }
        }
    }

    protected override async Task StopAgent(StopContext context)
    {
        _stop.TrySetResult();
        await _loop.ConfigureAwait(false);

        await base.StopAgent(context).ConfigureAwait(false);
    }
}
