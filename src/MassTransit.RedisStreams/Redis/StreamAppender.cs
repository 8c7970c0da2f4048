namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// The appends to one stream. An append made while none is on its way goes at once; those made while one is on its way wait
/// for it and then go together, in the order they were made, in one script call. So a single sender pays no delay, and many
/// concurrent senders cost Redis one script call per batch rather than one per message.
/// </summary>
sealed class StreamAppender
{
    /// <summary>At most this many entries go in one call.</summary>
    const int MaxBatchCount = 256;

    /// <summary>A batch stops growing past this many bytes of fields (one larger entry still goes alone).</summary>
    const long MaxBatchBytes = 1024 * 1024;

    readonly RedisStreamsClient _client;
    readonly object _lock = new();
    readonly bool _onlyIfStreamExists;
    readonly RedisKey _stream;
    List<Pending> _queue = new();
    List<Pending> _spare = new();
    bool _sending;

    public StreamAppender(RedisStreamsClient client, RedisKey stream, bool onlyIfStreamExists)
    {
        _client = client;
        _stream = stream;
        _onlyIfStreamExists = onlyIfStreamExists;
    }

    public Task<string?> Append(NewEntry entry)
    {
        var pending = new Pending(entry);

        lock (_lock)
        {
            _queue.Add(pending);
            if (_sending)
                return pending.Task;

            _sending = true;
        }

        _ = Send();

        return pending.Task;
    }

    async Task Send()
    {
        var batch = new List<Pending>();
        var entries = new List<NewEntry>();

        while (true)
        {
            batch.Clear();
            entries.Clear();
            lock (_lock)
            {
                if (_queue.Count == 0)
                {
                    _sending = false;
                    return;
                }

                Take(batch);
            }

            foreach (var pending in batch)
                entries.Add(pending.Entry);

            try
            {
                var outcomes = await _client.AppendBatch(_stream, entries, _onlyIfStreamExists).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    if (outcomes[i] is Exception exception)
                        batch[i].TrySetException(exception);
                    else
                        batch[i].TrySetResult((string?)outcomes[i]);
                }
            }
            catch (Exception exception)
            {
                // The whole call failed (the connection, most likely); each sender decides whether to try again.
                foreach (var pending in batch)
                    pending.TrySetException(exception);
            }
        }
    }

    /// <summary>Moves the oldest waiting appends, as many as one call takes, to <paramref name="batch" />.</summary>
    void Take(List<Pending> batch)
    {
        if (_queue.Count == 1)
        {
            batch.Add(_queue[0]);
            _queue.Clear();
            return;
        }

        long bytes = 0;
        var taken = 0;
        while (taken < _queue.Count && taken < MaxBatchCount && (taken == 0 || bytes + _queue[taken].Entry.Size <= MaxBatchBytes))
        {
            bytes += _queue[taken].Entry.Size;
            batch.Add(_queue[taken]);
            taken++;
        }

        if (taken == _queue.Count)
        {
            // Swap lists rather than copy: the queue starts empty again.
            (_queue, _spare) = (_spare, _queue);
            _spare.Clear();
        }
        else
            _queue.RemoveRange(0, taken);
    }


    sealed class Pending :
        TaskCompletionSource<string?>
    {
        public Pending(NewEntry entry)
            : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
            Entry = entry;
        }

        public NewEntry Entry { get; }
    }
}
