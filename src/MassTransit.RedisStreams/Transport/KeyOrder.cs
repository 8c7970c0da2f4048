namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;


/// <summary>
/// Keeps the entries of one partition key in order on an endpoint whose handlers run concurrently, as a Kafka consumer keeps
/// the messages of one key: an entry of a partition stream starts once the entry of the same key taken before it has
/// finished. Entries of different keys, and entries of other streams, run side by side as before.
/// </summary>
/// <remarks>
/// The key is the one the publisher partitioned by: the <c>RedisStreams-PartitionKey</c> field when it chose a key of its
/// own, otherwise the entry's CorrelationId. An entry with neither (partitioned by its MessageId) is not held. Entries are
/// entered in the order the workers take them, which is the order the reader hands them on.
/// </remarks>
sealed class KeyOrder
{
    static readonly RedisValue CorrelationIdField = MessageHeaders.CorrelationId;
    static readonly RedisValue PartitionKeyField = PartitionKeys.KeyHeader;

    readonly ConcurrentDictionary<RedisKey, bool> _partitioned = new();
    readonly StreamKeys _keys;
    readonly Dictionary<string, Task> _last = new();

    /// <summary>One token: the worker that holds it takes the next entry.</summary>
    readonly Channel<bool> _taking = Channel.CreateBounded<bool>(1);

    Applicability? _appliesTo;

    public KeyOrder(StreamKeys keys)
    {
        _keys = keys;
        _taking.Writer.TryWrite(true);
    }

    /// <summary>
    /// Takes the next entry from <paramref name="buffer" />, one worker at a time, so that the entries of a key take their turns
    /// in the order the reader hands them on; returns it with what it must wait for and its turn (see <see cref="Enter(Delivery)" />).
    /// </summary>
    public async ValueTask<(Delivery? Delivery, Task Before, Turn? Turn)> Take(EntryBuffer buffer)
    {
        while (!_taking.Reader.TryRead(out _))
            await _taking.Reader.WaitToReadAsync().ConfigureAwait(false);

        try
        {
            if (await buffer.Take().ConfigureAwait(false) is not { } delivery)
                return (null, Task.CompletedTask, null);

            var (before, turn) = Enter(delivery);
            return (delivery, before, turn);
        }
        finally
        {
            _taking.Writer.TryWrite(true);
        }
    }

    /// <summary>
    /// Whether the endpoint reads a partition stream among <paramref name="streams" />: only then do its workers take entries one
    /// at a time. The answer is kept for the array, which the endpoint replaces when its streams change.
    /// </summary>
    public bool AppliesTo(ReceiveStream[] streams)
    {
        var known = Volatile.Read(ref _appliesTo);
        if (known != null && ReferenceEquals(known.Streams, streams))
            return known.Applies;

        var applies = Array.Exists(streams, IsPartition);
        Volatile.Write(ref _appliesTo, new Applicability(streams, applies));
        return applies;
    }

    /// <summary><see cref="Enter(Delivery)" /> for an entry taken without <see cref="Take" />, or none.</summary>
    public (Delivery? Delivery, Task Before, Turn? Turn) EnterTaken(Delivery? delivery)
    {
        if (delivery is not { } taken)
            return (null, Task.CompletedTask, null);

        var (before, turn) = Enter(taken);
        return (taken, before, turn);
    }

    /// <summary>
    /// Records that <paramref name="delivery" /> is the latest of its key; returns what it must wait for (the one before it, or a
    /// completed task) and what to complete when it is done, or null when it has no key to keep in order.
    /// </summary>
    public (Task Before, Turn? Turn) Enter(Delivery delivery)
    {
        if (!IsPartition(delivery.Stream) || KeyOf(delivery.Entry) is not { } key)
            return (Task.CompletedTask, null);

        var turn = new Turn(key);
        lock (_last)
        {
            var before = _last.GetValueOrDefault(key) ?? Task.CompletedTask;
            _last[key] = turn.Done;
            return (before, turn);
        }
    }

    /// <summary>Lets the next entry of the key start.</summary>
    public void Exit(Turn turn)
    {
        lock (_last)
        {
            if (_last.TryGetValue(turn.Key, out var last) && last == turn.Done)
                _last.Remove(turn.Key);
        }

        turn.Complete();
    }

    bool IsPartition(ReceiveStream stream) =>
        !stream.IsQueue && _partitioned.GetOrAdd(stream.Key, key => _keys.EntityNameOf(key) is { } name && PartitionKeys.TryParse(name, out _, out _, out _));

    static string? KeyOf(StreamEntry entry)
    {
        var key = entry[PartitionKeyField];
        if (key.IsNullOrEmpty)
            key = entry[CorrelationIdField];

        return key.IsNullOrEmpty ? null : (string?)key;
    }


    /// <summary>The turn of one entry of a key.</summary>
    public sealed class Turn
    {
        readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Turn(string key)
        {
            Key = key;
        }

        public string Key { get; }

        public Task Done => _done.Task;

        public void Complete() => _done.TrySetResult();
    }


    sealed record Applicability(ReceiveStream[] Streams, bool Applies);
}
