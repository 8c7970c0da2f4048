namespace MassTransit.RedisStreams.Transport;

using System.Threading;
using Redis;
using StackExchange.Redis;
using Support;


/// <summary>
/// What wakes an endpoint's read loop and its pending-entry keeper, straight from where it happens: a message on a wake
/// channel, a connection that failed or came back, the death of another instance, a lapse of this one's lease. Each side takes
/// the requests meant for it and waits on its own signal.
/// </summary>
sealed class EndpointSignals
{
    CancellationTokenSource? _blocking;
    int _claimRequested;
    int _deathsReported;
    int _lapsed;
    int _rearmWakeFlags;
    int _topologyChanged;

    /// <summary>Set when the read loop should stop waiting and look again.</summary>
    public AsyncSignal Reader { get; } = new();

    /// <summary>Set when the keeper has work before its next interval.</summary>
    public AsyncSignal Keeper { get; } = new();

    /// <summary>A message on the wake channel of one of the endpoint's streams.</summary>
    public void OnWake(RedisKey stream, WakeReason reason)
    {
        switch (reason)
        {
            case WakeReason.Entries:
                Diagnostics.LatencyTrace.Mark(Diagnostics.LatencyStage.WakeReceived);
                // An append cleared a wake flag: entries to read, and the flag to arm again.
                Interlocked.Exchange(ref _rearmWakeFlags, 1);
                Reader.Set();
                break;

            case WakeReason.Topology:
                // A publisher recorded a new type derived from one the endpoint consumes: its stream must be read too.
                Interlocked.Exchange(ref _topologyChanged, 1);
                Reader.Set();
                InterruptBlocking();
                break;

            case WakeReason.Claim:
                // Another instance released entries: claim them now rather than at the next interval.
                Interlocked.Exchange(ref _claimRequested, 1);
                Keeper.Set();
                break;
        }
    }

    /// <summary>
    /// The connection failed or came back: a restarted server has lost the flags, wake-ups may have been missed, and so may a
    /// derived type announced meanwhile.
    /// </summary>
    public void OnConnectionChanged()
    {
        Interlocked.Exchange(ref _rearmWakeFlags, 1);
        Interlocked.Exchange(ref _topologyChanged, 1);
        Reader.Set();
        InterruptBlocking();
    }

    /// <summary>
    /// A blocking read begins (see <see cref="Redis.BlockingReader" />). The source is canceled when the read should end early:
    /// the streams must be set up again (a new derived type, a connection change), at once if that was asked for already.
    /// Wake-ups for entries do not end it: the blocked read sees the entries itself.
    /// </summary>
    public CancellationTokenSource BeginBlocking()
    {
        var source = new CancellationTokenSource();
        Volatile.Write(ref _blocking, source);
        if (Volatile.Read(ref _topologyChanged) == 1)
            source.Cancel();

        return source;
    }

    /// <summary>The blocking read begun with <see cref="BeginBlocking" /> has returned.</summary>
    public void EndBlocking() => Volatile.Write(ref _blocking, null);

    // Never disposed: a source without timer or links holds nothing, and a late Cancel must not meet a disposed one.
    void InterruptBlocking() => Volatile.Read(ref _blocking)?.Cancel();

    /// <summary>Other consumers died, or their claim should go on now that there is room.</summary>
    public void RequestDeadClaim()
    {
        Interlocked.Exchange(ref _deathsReported, 1);
        Keeper.Set();
    }

    /// <summary>This instance's lease may have lapsed: the held entries must be checked.</summary>
    public void OnLapsed()
    {
        Interlocked.Exchange(ref _lapsed, 1);
        Keeper.Set();
    }

    /// <summary>Whether the wake flags must be armed again; clears the request.</summary>
    public bool TakeRearm() => Interlocked.Exchange(ref _rearmWakeFlags, 0) == 1;

    /// <summary>Asks for the wake flags to be armed again (a read that would have armed them failed, say).</summary>
    public void RequestRearm() => Interlocked.Exchange(ref _rearmWakeFlags, 1);

    /// <summary>Whether the flags wait to be armed again, without clearing the request.</summary>
    public bool RearmRequested => Volatile.Read(ref _rearmWakeFlags) == 1;

    /// <summary>Whether the streams must be set up again; clears the request.</summary>
    public bool TakeTopologyChanged() => Interlocked.Exchange(ref _topologyChanged, 0) == 1;

    /// <summary>What the keeper is asked to do now; clears the requests.</summary>
    public (bool Deaths, bool Released, bool Lapsed) TakeKeeperRequests() =>
        (Interlocked.Exchange(ref _deathsReported, 0) == 1, Interlocked.Exchange(ref _claimRequested, 0) == 1, Interlocked.Exchange(ref _lapsed, 0) == 1);
}
