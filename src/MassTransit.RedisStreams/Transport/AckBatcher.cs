namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;


/// <summary>
/// Acknowledges the entries of one stream for one consumer group. The first acknowledgement goes out at once; those that
/// arrive while an XACK is in flight ride together in the next one, so at low load nothing waits and at high load one XACK
/// carries many IDs.
/// </summary>
sealed class AckBatcher
{
    readonly RedisStreamsClient _client;
    readonly string _group;
    readonly object _lock = new();
    readonly RedisKey _stream;
    readonly CancellationToken _stopped;
    bool _flushing;
    List<RedisValue> _pending;
    TaskCompletionSource _pendingCompleted;

    public AckBatcher(RedisStreamsClient client, RedisKey stream, string group, CancellationToken stopped)
    {
        _client = client;
        _stream = stream;
        _group = group;
        _stopped = stopped;
        _pending = [];
        _pendingCompleted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// Queues an entry for acknowledgement; the task completes once an XACK that includes it has succeeded.
    /// </summary>
    public Task Acknowledge(RedisValue id)
    {
        Task completed;
        bool startFlush;

        lock (_lock)
        {
            _pending.Add(id);
            completed = _pendingCompleted.Task;
            startFlush = !_flushing;
            _flushing = true;
        }

        if (startFlush)
            _ = Flush();

        return completed;
    }

    async Task Flush()
    {
        while (true)
        {
            List<RedisValue> batch;
            TaskCompletionSource completed;

            lock (_lock)
            {
                if (_pending.Count == 0)
                {
                    _flushing = false;
                    return;
                }

                batch = _pending;
                completed = _pendingCompleted;
                _pending = new List<RedisValue>(batch.Count);
                _pendingCompleted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            var ids = batch.ToArray();
            var backoff = new Backoff(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2));

            // An entry whose handling succeeded must not be handled again because one XACK met a dropped connection, so the
            // acknowledgement is retried until it succeeds; only a stopped endpoint gives up, leaving the entries pending.
            while (true)
            {
                try
                {
                    await _client.Acknowledge(_stream, _group, ids).ConfigureAwait(false);
                    completed.TrySetResult();
                    break;
                }
                catch (Exception exception) when (TransientFailures.IsRedisFailure(exception))
                {
                    if (_stopped.IsCancellationRequested)
                    {
                        completed.TrySetException(exception);
                        break;
                    }

                    LogContext.Warning?.Log(exception, "XACK failed, retrying in {Delay}: {Stream} {Group} ({Count} entries)", backoff.Next, _stream,
                        _group, ids.Length);

                    await backoff.Wait(_stopped).ConfigureAwait(false);
                }
            }
        }
    }
}
