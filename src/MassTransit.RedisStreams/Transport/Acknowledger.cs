namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;
using Support;


/// <summary>
/// The one way an endpoint acknowledges entries (XACK): a handled message, one moved to <c>_error</c> or <c>_skipped</c>, and a
/// pending entry whose stream entry is gone all come here. Per stream, acknowledgements made while an XACK is in flight ride
/// together in the next one (<see cref="Batcher{TItem}" />), so at low load nothing waits and at high load one XACK carries many
/// IDs. A failed XACK is retried (<see cref="RedisRetry.UntilStopped" />) until it succeeds or the endpoint stops: a message
/// handled successfully must not be handled again because one XACK met a dropped connection.
/// </summary>
/// <remarks>
/// A handled message's worker does not wait for its XACK, as RabbitMQ's does not wait for its BasicAck: the entry stays held —
/// its prefetch slot taken — until the XACK has succeeded, and is then released (<see cref="AcknowledgeThenRelease" />).
/// </remarks>
sealed class Acknowledger
{
    /// <summary>The most IDs in one XACK.</summary>
    const int MaxBatchCount = 1000;

    readonly EntryBuffer _buffer;
    readonly IGroupReads _groups;
    readonly string _group;
    readonly object _lock = new();
    readonly CancellationToken _stopped;
    TaskCompletionSource? _idle;
    int _outstanding;

    /// <param name="groups">Where XACK goes.</param>
    /// <param name="group">The endpoint's consumer group.</param>
    /// <param name="buffer">The buffer whose entries are released once acknowledged.</param>
    /// <param name="stopped">Ends the retries of a failed XACK.</param>
    public Acknowledger(IGroupReads groups, string group, EntryBuffer buffer, CancellationToken stopped)
    {
        _groups = groups;
        _group = group;
        _buffer = buffer;
        _stopped = stopped;
    }

    /// <summary>Acknowledges an entry; the task completes once an XACK that includes it has succeeded.</summary>
    public Task Acknowledge(ReceiveStream stream, RedisValue id) => Add(stream, new Acknowledgement(id, null), wait: true)!;

    /// <summary>
    /// Acknowledges a delivered entry without waiting: once an XACK that includes it has succeeded (or the endpoint stopped
    /// trying), the buffer releases it.
    /// </summary>
    public void AcknowledgeThenRelease(Delivery delivery) => Add(delivery.Stream, new Acknowledgement(delivery.Entry.Id, delivery), wait: false);

    /// <summary>Acknowledges several entries of one stream in one XACK.</summary>
    public Task Acknowledge(RedisKey stream, RedisValue[] ids) => Send(stream, ids);

    /// <summary>Completes once no acknowledgement is on its way: before the endpoint gives up its consumer and its lease.</summary>
    public Task WhenIdle()
    {
        lock (_lock)
        {
            if (Volatile.Read(ref _outstanding) == 0)
                return Task.CompletedTask;

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    Task? Add(ReceiveStream stream, Acknowledgement acknowledgement, bool wait)
    {
        var batcher = stream.Acknowledgements;
        if (batcher == null)
        {
            var key = stream.Key;
            Interlocked.CompareExchange(ref stream.Acknowledgements, new Batcher<Acknowledgement>(batch => SendBatch(key, batch), MaxBatchCount), null);
            batcher = stream.Acknowledgements;
        }

        Interlocked.Increment(ref _outstanding);

        if (wait)
            return batcher!.AddAndWait(acknowledgement);

        batcher!.Add(acknowledgement);
        return null;
    }

    async Task SendBatch(RedisKey stream, IReadOnlyList<Acknowledgement> batch)
    {
        var ids = new RedisValue[batch.Count];
        for (var i = 0; i < ids.Length; i++)
            ids[i] = batch[i].Id;

        try
        {
            await Send(stream, ids).ConfigureAwait(false);
        }
        finally
        {
            // Acknowledged, or the endpoint stopped trying: either way the entries are no longer this endpoint's to hold.
            foreach (var acknowledgement in batch)
            {
                if (acknowledgement.Release is { } delivery)
                    _buffer.Done(delivery);
            }

            if (Interlocked.Add(ref _outstanding, -batch.Count) == 0)
            {
                lock (_lock)
                {
                    if (Volatile.Read(ref _outstanding) == 0 && _idle != null)
                    {
                        _idle.TrySetResult();
                        _idle = null;
                    }
                }
            }
        }
    }

    Task Send(RedisKey stream, RedisValue[] ids)
    {
        return RedisRetry.UntilStopped(async () =>
        {
            try
            {
                await _groups.Acknowledge(stream, _group, ids).ConfigureAwait(false);
            }
            catch (Exception exception) when (TransientFailures.IsRedisFailure(exception))
            {
                LogContext.Warning?.Log(exception, "XACK failed, retrying: {Stream} {Group} ({Count} entries)", stream, _group, ids.Length);
                throw;
            }
        }, _stopped);
    }


    /// <summary>An entry to acknowledge, and the delivery to release once it is.</summary>
    internal readonly record struct Acknowledgement(RedisValue Id, Delivery? Release);
}
