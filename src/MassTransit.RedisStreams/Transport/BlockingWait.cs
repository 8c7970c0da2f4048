namespace MassTransit.RedisStreams.Transport;

using System;
using System.Threading;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;


/// <summary>
/// The read loop's side of blocking reads: when its streams are empty, an endpoint waits in <c>XREADGROUP ... BLOCK</c> on a
/// connection of its own (<see cref="BlockingReader" />), lent by the bus, instead of waiting for a wake-up and then reading.
/// Takes the reader when the endpoint first finds its streams empty, ends a read early when the endpoint stops or must set
/// its streams up again, and after a failed connection reads back what the read may have been handed, so that the endpoint
/// waits for wake-ups meanwhile without having lost an entry.
/// </summary>
sealed class BlockingWait
{
    /// <summary>
    /// How long after it starts an endpoint waits for wake-ups before it takes a reader: connecting costs CPU that a bus
    /// starting its other endpoints should not have to share.
    /// </summary>
    static readonly TimeSpan FirstTakeDelay = TimeSpan.FromSeconds(1);

    readonly IEndpointStatus _endpoint;
    readonly TimeSpan _idlePollInterval;
    readonly PendingEntries _pending;
    readonly GroupReader _reader;
    readonly BlockingReads _readers;
    readonly EndpointSignals _signals;
    readonly CancellationToken _stopping;
    readonly IEndpointStreams _streams;
    readonly TimeProvider _time;
    readonly ITimer _firstTake;
    BlockingReader? _blocking;
    DateTimeOffset _blockingRetryAt;
    ReceiveStream[]? _coverChecked;
    bool _covered;
    int _failedGeneration = -1;
    bool _mayTake;
    DateTimeOffset _nextTake;

    public BlockingWait(BlockingReads readers, IEndpointStatus endpoint, IEndpointStreams streams, PendingEntries pending, GroupReader reader,
        EndpointSignals signals, TimeSpan idlePollInterval, TimeProvider time, CancellationToken stopping)
    {
        _readers = readers;
        _endpoint = endpoint;
        _streams = streams;
        _pending = pending;
        _reader = reader;
        _signals = signals;
        _idlePollInterval = idlePollInterval;
        _time = time;
        _stopping = stopping;
        // The endpoint may be waiting for a wake-up by then, for as long as IdlePollInterval: it is woken to take its reader.
        _firstTake = time.CreateTimer(static x =>
        {
            var wait = (BlockingWait)x!;
            Volatile.Write(ref wait._mayTake, true);
            wait._signals.Reader.Set();
        }, this, FirstTakeDelay, Timeout.InfiniteTimeSpan);
    }

    DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>
    /// The endpoint's blocking reader, when one read can cover its streams and the reader's connection is up; taken from the
    /// bus's readers the first time the endpoint finds its streams empty, and given back when the loop ends. Null otherwise:
    /// the endpoint then waits for wake-ups.
    /// </summary>
    public BlockingReader? TryReader()
    {
        var streams = _streams.Streams;
        if (!ReferenceEquals(streams, _coverChecked))
        {
            // On a Redis Cluster, streams in different hash slots cannot be read by one command.
            if (_readers.CanCover(Array.ConvertAll(streams, x => x.Key)) is not { } covered)
                return null;

            _covered = covered;
            _coverChecked = streams;
        }

        if (!_covered)
            return null;

        if (_blocking == null)
        {
            // Not in the endpoint's first second; all lent out: asked again now and then, since an endpoint that stops gives its
            // reader back.
            if (!Volatile.Read(ref _mayTake) || Now < _nextTake)
                return null;

            _nextTake = Now + _idlePollInterval;
            _blocking = _readers.TryTake();
            if (_blocking == null)
                return null;

            // An endpoint that waits for wake-ups while the connection comes up switches to blocking reads at once.
            _blocking.Attach(_signals.Reader.Set);
        }

        if (!_blocking.IsReady)
        {
            // Connecting still, or the connection could not be made: asked again now and then.
            if (Now >= _nextTake)
            {
                _blocking.Attach(_signals.Reader.Set);
                _nextTake = Now + _idlePollInterval;
            }

            return null;
        }

        // After a failed read, the connection gets another go once it came back, or after a poll interval.
        if (_blocking.Generation == _failedGeneration && Now < _blockingRetryAt)
            return null;

        return _blocking;
    }

    /// <summary>
    /// One blocking read (see <see cref="GroupReader.ReadBlocking" />), ended early at stop and when the streams must be set up
    /// again. Null when the reader's connection failed: what Redis handed to it meanwhile is pending for this consumer, and is
    /// read back now, so that nothing waits for a claim.
    /// </summary>
    public async Task<ReadResult?> Read(BlockingReader blocking, int capacity)
    {
        var generation = blocking.Generation;
        var interrupt = _signals.BeginBlocking();
        try
        {
            ReadResult result;
            await using (_stopping.Register(static x => ((CancellationTokenSource)x!).Cancel(), interrupt).ConfigureAwait(false))
                result = await _reader.ReadBlocking(blocking, capacity, _readers.BlockTime, interrupt.Token).ConfigureAwait(false);

            Diagnostics.TransportMetrics.CountIdleWait(_streams.Group, woken: result.Read > 0);
            return result;
        }
        catch (Exception exception) when (IsConnectionFailure(exception))
        {
            // Closed to end the read at stop: what it may have been handed waits, pending, for the next start or a claim.
            if (_stopping.IsCancellationRequested)
                return null;

            LogContext.Debug?.Log(exception, "The blocking reader's connection failed; waiting for wake-ups meanwhile: {InputAddress}",
                _endpoint.InputAddress);

            _failedGeneration = generation;
            _blockingRetryAt = Now + _idlePollInterval;

            // The wake flags were not armed while the endpoint read blocking.
            _signals.RequestRearm();

            // Entries held back are read again, in order, with the endpoint's own pending entries.
            _reader.Reset();
            await _pending.ReadOwn(_idlePollInterval, _time, _stopping).ConfigureAwait(false);
            return null;
        }
        finally
        {
            _signals.EndBlocking();
        }
    }

    static bool IsConnectionFailure(Exception exception) => exception is RedisConnectionException or RedisTimeoutException or ObjectDisposedException;

    /// <summary>Gives the reader back to the bus when the loop ends; no read of it is in progress then, each is awaited to the end.</summary>
    public void GiveBack()
    {
        _firstTake.Dispose();

        if (_blocking != null)
            _readers.Return(_blocking);

        _blocking = null;
    }
}
