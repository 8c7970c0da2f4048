namespace MassTransit.RedisStreams.Scheduling;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Middleware;
using Redis;
using StackExchange.Redis;
using Support;
using Transport;


/// <summary>
/// Appends delayed messages to their streams when they are due. Every running instance of the bus runs one; the move
/// script takes each message out of its delayed set in the same step as it appends it, so however many pumps race for a
/// due message, it is appended once.
/// </summary>
/// <remarks>
/// No polling: the pump knows the earliest due time of every stream with delayed messages — read when it starts, when the
/// connection comes back and every few minutes, and announced by whoever schedules a message that becomes a stream's
/// earliest — and sleeps until the first of them.
/// </remarks>
sealed class DelayedMessagePump :
    Agent
{
    const int BatchSize = 500;
    static readonly TimeSpan ResyncInterval = TimeSpan.FromMinutes(5);

    readonly RedisStreamsBusContext _bus;
    readonly AsyncSignal _changed;
    readonly IDelayedStore _store;
    readonly TimeProvider _time;
    readonly PriorityQueue<RedisKey, DateTimeOffset> _due;
    readonly Dictionary<RedisKey, DateTimeOffset> _earliest;
    readonly object _lock = new();
    readonly Task _loop;
    readonly TaskCompletionSource _stopped;
    int _resync;

    public DelayedMessagePump(RedisStreamsBusContext bus)
    {
        _bus = bus;
        _store = bus.Redis.Delayed;
        _time = bus.Time;
        _changed = new AsyncSignal();
        _due = new PriorityQueue<RedisKey, DateTimeOffset>();
        _earliest = new Dictionary<RedisKey, DateTimeOffset>();
        _stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _resync = 1;

        _bus.Connection.ConnectionChanged += OnConnectionChanged;

        SetReady();
        _loop = Task.Run(Run);
    }

    /// <summary>A message of <paramref name="stream" /> is due at <paramref name="due" /> (or later).</summary>
    public void Enqueue(RedisKey stream, DateTimeOffset due)
    {
        lock (_lock)
        {
            if (_earliest.TryGetValue(stream, out var known) && known <= due)
                return;

            _earliest[stream] = due;
            _due.Enqueue(stream, due);
        }

        _changed.Set();
    }

    async Task Run()
    {
        var delays = new RetryDelays();
        var subscribed = false;
        var nextResync = _time.GetUtcNow() + ResyncInterval;

        while (!_stopped.Task.IsCompleted)
        {
            try
            {
                if (!subscribed)
                {
                    await _store.SubscribeAnnouncements(Enqueue).ConfigureAwait(false);
                    subscribed = true;
                }

                if (Interlocked.Exchange(ref _resync, 0) == 1 || _time.GetUtcNow() >= nextResync)
                {
                    await Resync().ConfigureAwait(false);
                    nextResync = _time.GetUtcNow() + ResyncInterval;
                }

                if (TryTakeDue(out var stream, out var due, out var wait))
                {
                    await HoldRecordsOfLateMessages(stream, due).ConfigureAwait(false);

                    var (moved, nextDue, tokens) = await _store.MoveDue(stream, BatchSize).ConfigureAwait(false);
                    Diagnostics.TransportMetrics.CountScheduledDelivered(stream.ToString(), moved, _time.GetUtcNow() - due);
                    if (nextDue is { } next)
                        Enqueue(stream, next);

                    await _store.ForgetTokens(tokens).ConfigureAwait(false);
                    delays.Reset();
                    continue;
                }

                var untilResync = nextResync - _time.GetUtcNow();
                var sleep = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, Math.Min(wait.Ticks, untilResync.Ticks)));
                await Task.WhenAny(_changed.Wait(sleep, _time, CancellationToken.None), _stopped.Task).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                // Nothing may end the pump: a failure is tried again after a pause, with the due times read afresh.
                if (TransientFailures.IsRedisFailure(exception))
                    LogContext.Debug?.Log(exception, "Moving delayed messages failed; retrying");
                else
                    LogContext.Error?.Log(exception, "Moving delayed messages failed; retrying");

                Interlocked.Exchange(ref _resync, 1);
                await Task.WhenAny(Task.Delay(delays.Next(exception), _time), _stopped.Task).ConfigureAwait(false);
            }
        }

        if (subscribed)
        {
            try
            {
                await _store.UnsubscribeAnnouncements().ConfigureAwait(false);
            }
            catch (Exception exception) when (TransientFailures.IsRedisFailure(exception))
            {
                LogContext.Debug?.Log(exception, "Unsubscribing from delayed message announcements failed");
            }
        }
    }

    /// <summary>
    /// A message holds its writer's host record until a quarter of the hold after its due time. One appended later than that
    /// (every instance was down, or Redis was) would name a record retention may remove: the records its batch names are held
    /// again first. On time, this costs nothing.
    /// </summary>
    async Task HoldRecordsOfLateMessages(RedisKey stream, DateTimeOffset due)
    {
        var hosts = _bus.Hosts;
        if (_time.GetUtcNow() - due < hosts.Hold / 8)
            return;

        var held = await _store.GetHeld(stream, BatchSize).ConfigureAwait(false);
        await hosts.HoldNamed(held.Select(x => Array.Find(x.Fields, field => field.Name == EntryFieldNames.Host).Value)).ConfigureAwait(false);
    }

    /// <summary>The stream whose earliest message is due now, and when it was due; otherwise how long until the first one is.</summary>
    bool TryTakeDue(out RedisKey stream, out DateTimeOffset due, out TimeSpan wait)
    {
        lock (_lock)
        {
            while (_due.TryPeek(out stream, out due))
            {
                // A stream is queued again when an earlier due time is learnt; the later, stale item is skipped.
                if (!_earliest.TryGetValue(stream, out var earliest) || earliest != due)
                {
                    _due.Dequeue();
                    continue;
                }

                wait = due - _time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                    return false;

                _due.Dequeue();
                _earliest.Remove(stream);
                return true;
            }

            wait = ResyncInterval;
            return false;
        }
    }

    /// <summary>Reads the earliest due time of every stream with delayed messages.</summary>
    async Task Resync()
    {
        _store.ForgetRecordedStreams();

        foreach (var stream in await _store.GetStreams().ConfigureAwait(false))
        {
            var (count, nextDue) = await _store.GetSummary(stream).ConfigureAwait(false);
            if (count > 0 && nextDue is { } due)
                Enqueue(stream, due);
        }
    }

    void OnConnectionChanged(bool connected)
    {
        // Announcements may have been missed while the connection was down.
        if (connected)
        {
            Interlocked.Exchange(ref _resync, 1);
            _changed.Set();
        }
    }

    protected override async Task StopAgent(StopContext context)
    {
        _bus.Connection.ConnectionChanged -= OnConnectionChanged;

        _stopped.TrySetResult();
        await _loop.ConfigureAwait(false);

        await base.StopAgent(context).ConfigureAwait(false);
    }
}
