namespace MassTransit.RedisStreams.Support;

using System;
using System.Collections.Generic;
using System.Threading.Tasks;


/// <summary>
/// Sends items in batches, in the order they were added. An item added while no batch is on its way goes at once, alone;
/// items added while one is on its way wait for it and go together in the next, up to <c>maxCount</c> items or
/// <c>maxBytes</c> (an item larger than that goes alone). So a lone caller pays no delay, and many concurrent callers cost
/// one call per batch rather than one per item. The transport's appends to a stream and its acknowledgements of a stream's
/// entries go through one each.
/// </summary>
/// <remarks>
/// A batch object is used again once it is sent, and a batch has a task to wait on only when a caller asked for one
/// (<see cref="AddAndWait" />): items that carry their own outcome (an append's entry ID) or need none cost no allocation here.
/// </remarks>
/// <typeparam name="TItem">What is sent; an item that has a result of its own carries it.</typeparam>
sealed class Batcher<TItem>
{
    readonly object _lock = new();
    readonly int _maxCount;
    readonly long _maxBytes;
    readonly Func<IReadOnlyList<TItem>, Task> _send;
    readonly Func<TItem, long>? _size;
    readonly Stack<Batch> _spare = new();
    readonly Queue<Batch> _waiting = new();
    Batch? _open;
    bool _sending;

    /// <param name="send">
    /// Sends one batch; a failure fails every item of the batch, and only that batch. The list is the batcher's: it is not to
    /// be kept after the task completes.
    /// </param>
    /// <param name="maxCount">The most items in one batch.</param>
    /// <param name="maxBytes">The most bytes in one batch, by <paramref name="size" />.</param>
    /// <param name="size">The size of an item; null when only the count limits a batch.</param>
    public Batcher(Func<IReadOnlyList<TItem>, Task> send, int maxCount, long maxBytes = long.MaxValue, Func<TItem, long>? size = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);

        _send = send;
        _maxCount = maxCount;
        _maxBytes = maxBytes;
        _size = size;
    }

    /// <summary>Adds an item, to be sent with the next batch; nobody waits for it here.</summary>
    public void Add(TItem item) => Enqueue(item, false);

    /// <summary>Adds an item; the task completes once the batch that carries it has been sent, or fails with it.</summary>
    public Task AddAndWait(TItem item) => Enqueue(item, true)!;

    Task? Enqueue(TItem item, bool wait)
    {
        var size = _size?.Invoke(item) ?? 0;
        Task? completion;
        bool start;

        lock (_lock)
        {
            var batch = _open;
            if (batch == null || batch.Items.Count >= _maxCount || batch.Items.Count > 0 && batch.Bytes + size > _maxBytes)
            {
                batch = _spare.Count > 0 ? _spare.Pop() : new Batch();
                _waiting.Enqueue(batch);
                _open = batch;
            }

            batch.Items.Add(item);
            batch.Bytes += size;
            if (wait)
                batch.Completion ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            completion = batch.Completion?.Task;

            start = !_sending;
            _sending = true;
        }

        if (start)
            _ = Send();

        return completion;
    }

    async Task Send()
    {
        while (true)
        {
            Batch batch;
            lock (_lock)
            {
                if (!_waiting.TryDequeue(out batch!))
                {
                    _sending = false;
                    return;
                }

                // Items added from now on wait for the next batch.
                if (ReferenceEquals(_open, batch))
                    _open = null;
            }

            try
            {
                await _send(batch.Items).ConfigureAwait(false);
                batch.Completion?.TrySetResult();
            }
            catch (Exception exception)
            {
                batch.Completion?.TrySetException(exception);
            }

            batch.Items.Clear();
            batch.Bytes = 0;
            batch.Completion = null;
            lock (_lock)
                _spare.Push(batch);
        }
    }


    sealed class Batch
    {
        public readonly List<TItem> Items = new(1);
        public long Bytes;
        public TaskCompletionSource? Completion;
    }
}
