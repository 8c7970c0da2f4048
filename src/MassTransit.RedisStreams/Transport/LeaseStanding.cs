namespace MassTransit.RedisStreams.Transport;

using System;
using System.Threading;


/// <summary>
/// Whether this instance still stands on its consumer name lease, by its own clock: what it may do with the entries it read
/// before a stall. Renewals report here; the workers ask before they start an entry.
/// </summary>
/// <remarks>
/// Another instance takes this one for dead once the lease has run out in Redis, a lease time after the last renewal Redis
/// ran. That renewal was sent no earlier than this instance noted it, so as long as the last successful renewal was sent less
/// than <see cref="ConsumerIdentity.LeaseTime" /> minus a margin ago, nobody has claimed this instance's entries. After a longer
/// gap — the process stood still (a long GC pause, a frozen VM), or could not reach Redis — they may have been: the
/// <see cref="Epoch" /> moves on, and every entry read in an earlier one is checked before it is started.
/// </remarks>
sealed class LeaseStanding
{
    readonly TimeSpan _safeAge;
    readonly TimeProvider _time;
    int _epoch;
    long _renewedAt;

    /// <param name="time">The clock.</param>
    /// <param name="safeAge">How old the last renewal may be for the lease to be standing for certain.</param>
    public LeaseStanding(TimeProvider time, TimeSpan safeAge)
    {
        _time = time;
        _safeAge = safeAge;
        _renewedAt = long.MinValue;
    }

    /// <summary>Moves on each time the lease may have run out; an entry read in an earlier epoch may be another's by now.</summary>
    public int Epoch => Volatile.Read(ref _epoch);

    /// <summary>True while the last renewal is recent enough that no other instance can have taken this one for dead.</summary>
    public bool IsStanding
    {
        get
        {
            var renewedAt = Interlocked.Read(ref _renewedAt);
            return renewedAt != long.MinValue && _time.GetElapsedTime(renewedAt) < _safeAge;
        }
    }

    /// <summary>Raised when the epoch moves on, so that endpoints check the entries they hold.</summary>
    public event Action? Lapsed;

    /// <summary>The time to note before sending a renewal: a renewal that succeeds counts from when it was sent.</summary>
    public long Now() => _time.GetTimestamp();

    /// <summary>
    /// A renewal sent at <paramref name="sentAt" /> succeeded. <paramref name="lapsedInRedis" /> says whether Redis found the
    /// lease run out (or lost, or given to this instance anew); either that or a gap longer than the lease since the previous
    /// successful renewal moves the epoch on.
    /// </summary>
    /// <returns>True when the epoch moved on.</returns>
    public bool Renewed(long sentAt, TimeSpan leaseTime, bool lapsedInRedis)
    {
        var previous = Interlocked.Exchange(ref _renewedAt, sentAt);
        var gap = previous != long.MinValue && _time.GetElapsedTime(previous, sentAt) > leaseTime;
        if (!gap && !lapsedInRedis)
            return false;

        MoveOn();
        return true;
    }

    /// <summary>The instance continues under another name (or anew): whatever it read under the old one may be another's.</summary>
    void MoveOn()
    {
        Interlocked.Increment(ref _epoch);
        Lapsed?.Invoke();
    }
}
