namespace MassTransit.RedisStreams.Transport;

using System;
using System.Threading;
using System.Threading.Tasks;


/// <summary>
/// Whether this instance still stands on its consumer name lease, by its own clock: what it may do with the entries it read
/// before a stall. Renewals report here; the workers ask before they start an entry.
/// </summary>
/// <remarks>
/// Another instance takes this one for dead once the lease has run out in Redis, a lease time after the last renewal Redis
/// ran. That renewal was sent no earlier than this instance noted it, so as long as the last successful renewal was sent less
/// than <see cref="ConsumerIdentity.LeaseTime" /> minus a margin ago, nobody has claimed this instance's entries. After a longer
/// gap — the process stood still (a long GC pause, a frozen VM), or could not reach Redis — they may have been: the
/// <see cref="Epoch" /> moves on, and every entry read in an earlier one is checked before it is started. While the lease does
/// not stand, nothing is started (<see cref="WhenStanding" />): the others may be claiming this instance's entries as a dead
/// one's, and take only those it has not touched since they noticed (see <see cref="PendingEntries.ClaimFromDead" />), so
/// whatever it starts must be touched — checked — after a renewal has told them it lives.
/// </remarks>
sealed class LeaseStanding
{
    readonly TimeSpan _safeAge;
    readonly TimeProvider _time;
    int _epoch;
    long _renewedAt;
    TaskCompletionSource _renewal = NewRenewal();

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

    /// <summary>
    /// Completes at once while the lease stands, else with the next successful renewal (after which <see cref="Epoch" /> says
    /// whether the lease had lapsed meanwhile); canceled by <paramref name="cancellationToken" />.
    /// </summary>
    public async Task WhenStanding(CancellationToken cancellationToken)
    {
        while (true)
        {
            var renewal = Volatile.Read(ref _renewal).Task;
            if (IsStanding)
                return;

            await renewal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The time to note before sending a renewal: a renewal that succeeds counts from when it was sent.</summary>
    public long Now() => _time.GetTimestamp();

    /// <summary>
    /// A renewal sent at <paramref name="sentAt" /> succeeded. <paramref name="lapsedInRedis" /> says whether Redis found the
    /// lease run out (or lost, or given to this instance anew); either that or a gap since the previous successful renewal
    /// longer than the safe age — long enough for the lease to have stopped standing, so that the lease may have run out in
    /// Redis, whose clock and round trips are not this instance's — moves the epoch on.
    /// </summary>
    /// <returns>True when the epoch moved on.</returns>
    /// <remarks>
    /// The epoch moves on before the renewal's time is published, and a worker reads <see cref="IsStanding" /> before
    /// <see cref="Epoch" />: one that sees the lease standing again also sees the new epoch, so it never starts an entry of
    /// the old one unchecked.
    /// </remarks>
    public bool Renewed(long sentAt, bool lapsedInRedis)
    {
        var previous = Interlocked.Read(ref _renewedAt);
        var gap = previous != long.MinValue && _time.GetElapsedTime(previous, sentAt) > _safeAge;
        var lapsed = gap || lapsedInRedis;
        if (lapsed)
            Interlocked.Increment(ref _epoch);

        Interlocked.Exchange(ref _renewedAt, sentAt);
        Interlocked.Exchange(ref _renewal, NewRenewal()).TrySetResult();

        // The instance continues under another name (or anew): whatever it read under the old one may be another's.
        if (lapsed)
            Lapsed?.Invoke();

        return lapsed;
    }

    /// <summary>
    /// Whether an entry read in <paramref name="epoch" /> may be started without asking Redis: the lease stands and has not
    /// lapsed since it was read.
    /// </summary>
    public bool MayStartUnchecked(int epoch) => IsStanding && epoch == Epoch;

    static TaskCompletionSource NewRenewal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
