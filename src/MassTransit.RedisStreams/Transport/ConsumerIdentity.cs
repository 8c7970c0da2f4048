namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Redis;


/// <summary>
/// The consumer name of one bus instance, leased in Redis so that no two live instances read under the same name, and the
/// watch on the other instances' leases that tells this one when an instance has died.
/// </summary>
/// <remarks>
/// <para>
/// The instance takes the first free name of <c>{base}</c>, <c>{base}-1</c>, <c>{base}-2</c>, ... in the lease set
/// (<see cref="StreamKeys.ConsumerLeases" />), and renews its lease every second from a thread of its own, so that neither a
/// long handler nor a thread pool starved by blocking handlers keeps the renewal back. A stopping instance gives its lease
/// up; a crashed one's runs out after <see cref="LeaseTime" />. The thread waits on a kernel event, not a timer, because the
/// timers of .NET complete on the thread pool; its clock is the <see cref="TimeProvider" />, and what a renewal means is
/// decided by <see cref="LeaseStanding" />.
/// </para>
/// <para>
/// Each renewal also returns the names whose leases ran out since the previous one. They are reported once to the endpoints
/// (<see cref="ConsumersDied" />), which claim those consumers' pending entries at once instead of waiting for the claim
/// timeout. A name whose lease ran out is kept from others for <see cref="Quarantine" />, so that its entries are claimed
/// before an instance can take the name back; one that restarts after that gets its old name, and reads its own pending
/// entries at once.
/// </para>
/// </remarks>
sealed class ConsumerIdentity
{
    /// <summary>How long a lease lives unless renewed: how soon a crash is noticed, and how long a stall may last.</summary>
    public static readonly TimeSpan LeaseTime = TimeSpan.FromSeconds(3);

    /// <summary>How often the lease is renewed: one script call per bus instance, whatever the number of endpoints.</summary>
    public static readonly TimeSpan RenewInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long a name whose lease ran out is kept from others: time for the survivors to claim its entries.</summary>
    public static readonly TimeSpan Quarantine = TimeSpan.FromSeconds(3);

    /// <summary>How far back the first renewal looks for deaths, and how long a dead name stays in the lease set.</summary>
    public static readonly TimeSpan DeathMemory = TimeSpan.FromSeconds(60);

    static readonly ConsumerLeaseTimes Times = new(LeaseTime, Quarantine, LeaseTime - RenewInterval, DeathMemory);

    const int MaxSlots = 1000;

    /// <summary>Every how many renewals the leases that ran out long ago are forgotten.</summary>
    const int ForgetEvery = 30;

    readonly string _baseName;
    readonly ILeases _leases;
    readonly object _lock = new();
    readonly Dictionary<string, long> _recentDeaths = new(StringComparer.Ordinal);
    readonly TimeProvider _time;
    Task<Lease>? _acquiring;

    public ConsumerIdentity(ILeases leases, string? configuredName, TimeProvider time)
    {
        _leases = leases;
        _time = time;
        _baseName = string.IsNullOrWhiteSpace(configuredName) ? Environment.MachineName : configuredName;
        Standing = new LeaseStanding(time, LeaseTime - RenewInterval);
    }

    /// <summary>Whether the lease stands, and in which epoch: what the endpoints check before they start an entry read earlier.</summary>
    public LeaseStanding Standing { get; }

    /// <summary>The current name; valid once <see cref="Acquire" /> has completed.</summary>
    public string Name => CurrentName ?? throw new InvalidOperationException("The consumer name has not been acquired yet.");

    /// <summary>The current name, or null before it is acquired.</summary>
    public string? CurrentName => _acquiring is { IsCompletedSuccessfully: true } acquiring ? acquiring.Result.Name : null;

    /// <summary>
    /// Raised, from the lease's thread, with the names of other instances whose leases ran out: their pending entries are
    /// free to claim. Each death is reported once; handlers must return at once.
    /// </summary>
    public event Action<IReadOnlyList<ConsumerDeath>>? ConsumersDied;

    /// <summary>The deaths reported within the last <see cref="DeathMemory" />, for an endpoint that starts later.</summary>
    public IReadOnlyList<ConsumerDeath> RecentDeaths
    {
        get
        {
            lock (_recentDeaths)
            {
                return _recentDeaths.Where(x => _time.GetElapsedTime(x.Value) <= DeathMemory).Select(x => new ConsumerDeath(x.Key, x.Value)).ToList();
            }
        }
    }

    /// <summary>Leases a name, unless this instance holds one already; a failed attempt is made again by the next call.</summary>
    public async Task<string> Acquire()
    {
        Task<Lease> acquiring;
        lock (_lock)
        {
            if (_acquiring == null || _acquiring.IsFaulted || _acquiring.IsCanceled)
                _acquiring = Take();

            acquiring = _acquiring;
        }

        return (await acquiring.ConfigureAwait(false)).Name;
    }

    /// <summary>Gives the lease up, so a restart of this instance gets its name back at once.</summary>
    public async Task Release()
    {
        Task<Lease>? acquiring;
        lock (_lock)
        {
            acquiring = _acquiring;
            _acquiring = null;
        }

        if (acquiring is not { IsCompletedSuccessfully: true })
            return;

        var lease = acquiring.Result;
        lease.Stop();

        // A renewal still under way would take the name again after the release.
        await lease.Ended.Task.ConfigureAwait(false);

        try
        {
            await _leases.ReleaseName(lease.Name, lease.Holder).ConfigureAwait(false);
        }
        catch (Exception exception) when (TransientFailures.IsRedisFailure(exception))
        {
            LogContext.Debug?.Log(exception, "Releasing the consumer name lease failed; it runs out by itself");
        }
    }

    async Task<Lease> Take()
    {
        var lease = new Lease(Guid.NewGuid().ToString("N"));
        var sentAt = Standing.Now();
        lease.Name = await TakeFreeName(lease.Holder).ConfigureAwait(false);

        // Taken again after a stop: the gap since the earlier lease moves the epoch on.
        Standing.Renewed(sentAt, lapsedInRedis: false);

        var thread = new Thread(() =>
        {
            try
            {
                RenewWhileHeld(lease);
            }
            finally
            {
                lease.Ended.TrySetResult();
            }
        })
        {
            IsBackground = true,
            Name = "Redis Streams consumer lease"
        };
        thread.Start();

        return lease;
    }

    async Task<string> TakeFreeName(string holder)
    {
        for (var slot = 0; slot < MaxSlots; slot++)
        {
            var name = slot == 0 ? _baseName : $"{_baseName}-{slot}";
            if (await _leases.TakeName(name, holder, Times).ConfigureAwait(false))
            {
                LogContext.Debug?.Log("Consumer name leased: {ConsumerName}", name);
                return name;
            }
        }

        throw new InvalidOperationException(
            $"All {MaxSlots} consumer names of '{_baseName}' are leased by running instances; set RedisStreams:ConsumerName to a name of its own.");
    }

    /// <summary>Renews the lease every <see cref="RenewInterval" /> until it is released; runs on a thread of its own.</summary>
    void RenewWhileHeld(Lease lease)
    {
        // The first renewal looks back for deaths this instance did not see, such as its own predecessor's.
        var since = -(long)DeathMemory.TotalMilliseconds;
        var renewals = 0L;
        var next = _time.GetTimestamp();

        while (true)
        {
            var wait = RenewInterval - _time.GetElapsedTime(next);
            if (lease.Stopped.Wait(wait > TimeSpan.Zero ? wait : TimeSpan.Zero))
                return;

            // After a stall (a failed renewal that waited for its timeout, say) the next renewal is due a full interval later.
            next = _time.GetTimestamp();

            try
            {
                var sentAt = Standing.Now();
                var renewal = _leases.RenewName(lease.Name, lease.Holder, Times, since, renewals++ % ForgetEvery == 0);
                since = renewal.Since;

                if (renewal.Status == ConsumerLeaseStatus.TakenByAnother)
                {
                    // Another instance holds the name now: this one moves to a free name, and what it read is that one's.
                    var previous = lease.Name;
                    lease.Name = TakeFreeName(lease.Holder).GetAwaiter().GetResult();
                    Standing.Renewed(sentAt, lapsedInRedis: true);
                    LogContext.Warning?.Log("The consumer name {ConsumerName} was taken by another instance; continuing as {NewConsumerName}", previous,
                        lease.Name);
                }
                else if (Standing.Renewed(sentAt, renewal.Status == ConsumerLeaseStatus.TakenAgain || renewal.Dead.Contains(lease.Name)))
                {
                    LogContext.Warning?.Log(
                        "The consumer name lease of {ConsumerName} may have run out, or was lost, and was taken again; entries this instance held may have "
                        + "been claimed by others, and are checked before they are started", lease.Name);
                }

                Report(renewal.Dead.Where(x => x != lease.Name).ToList(), sentAt);
            }
            catch (Exception exception) when (TransientFailures.IsRedisFailure(exception) || exception is InvalidOperationException)
            {
                // InvalidOperationException: every name was leased by running instances; the next renewal looks again.
                LogContext.Debug?.Log(exception, "Renewing the consumer name lease failed; retrying");
            }
            catch (Exception exception)
            {
                // The thread must outlive anything a renewal or a handler of the report throws, or the lease would run out.
                LogContext.Error?.Log(exception, "Renewing the consumer name lease failed unexpectedly; retrying");
            }
        }
    }

    /// <param name="dead">The names whose leases ran out.</param>
    /// <param name="noticedAt">When the renewal that reported them was sent: no later than Redis found them dead.</param>
    void Report(List<string> dead, long noticedAt)
    {
        if (dead.Count == 0)
            return;

        var deaths = dead.ConvertAll(x => new ConsumerDeath(x, noticedAt));
        lock (_recentDeaths)
        {
            foreach (var name in dead)
                _recentDeaths[name] = noticedAt;

            foreach (var name in _recentDeaths.Where(x => _time.GetElapsedTime(x.Value) > DeathMemory).Select(x => x.Key).ToList())
                _recentDeaths.Remove(name);
        }

        LogContext.Info?.Log("The consumer name leases of {Consumers} ran out: claiming their pending entries", string.Join(", ", dead));

        ConsumersDied?.Invoke(deaths);
    }


    sealed class Lease
    {
        public Lease(string holder)
        {
            Holder = holder;
        }

        /// <summary>Identifies this instance as the lease's holder.</summary>
        public string Holder { get; }

        public volatile string Name = "";

        /// <summary>Set when the lease is given up: the renewal thread ends.</summary>
        public ManualResetEventSlim Stopped { get; } = new();

        /// <summary>Completed when the renewal thread has ended.</summary>
        public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Stop() => Stopped.Set();
    }
}


/// <summary>
/// The consumer name lease of another instance ran out: its pending entries are free to claim, those it has not touched since
/// <see cref="NoticedAt" /> (a <see cref="TimeProvider" /> timestamp taken no later than Redis found the lease run out).
/// </summary>
/// <remarks>
/// An instance that only stood still, or was cut off, can come back and renew its lease under the same name. Whatever it
/// touches after that — an entry it checks and starts, one it reads anew — was touched after the death was noticed, so its
/// idle time is shorter than the time since: claims take only entries idle longer than that, and leave the returned
/// instance its own.
/// </remarks>
readonly record struct ConsumerDeath(string Name, long NoticedAt);
