namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading.Tasks;
using StackExchange.Redis;
using Support;


/// <summary>Appends entries to streams: every send, publish and move to <c>_error</c> or <c>_skipped</c>.</summary>
interface IStreamAppends
{
    /// <summary>How long a stream remembers appended messages to refuse them again; zero for not at all.</summary>
    TimeSpan DuplicateDetectionWindow { get; }

    /// <summary>
    /// Appends an entry (XADD) under an ID that orders it after every earlier append on this Redis, and wakes idle readers of
    /// the stream. Appends to one stream made while an earlier one is on its way go together in one script call, in the order
    /// they were made.
    /// </summary>
    /// <param name="stream">The stream.</param>
    /// <param name="entry">The fields.</param>
    /// <param name="onlyIfStreamExists">When true (XADD NOMKSTREAM), nothing is added to a stream that does not exist.</param>
    /// <returns>
    /// The new entry's ID; null when <paramref name="onlyIfStreamExists" /> and the stream did not exist;
    /// <see cref="StreamAppends.Duplicate" /> when the stream had the message already within the duplicate detection window.
    /// </returns>
    /// <seealso href="https://redis.io/commands/xadd" />
    Task<string?> Append(RedisKey stream, NewEntry entry, bool onlyIfStreamExists);
}


/// <summary>What an append waits for and remembers.</summary>
/// <param name="WaitForReplicas">How many replicas must have a batch of appends before it completes (WAIT); 0 for none.</param>
/// <param name="WaitForReplicasTimeout">How long to wait for them.</param>
/// <param name="DuplicateDetectionWindow">How long a stream remembers the messages appended to it; zero for not at all.</param>
readonly record struct AppendOptions(int WaitForReplicas, TimeSpan WaitForReplicasTimeout, TimeSpan DuplicateDetectionWindow);


/// <summary>
/// The appends of a bus, through <c>append.lua</c>: one <see cref="Batcher{TItem}" /> per stream, so that concurrent appends
/// to a stream cost one script call per batch, at most 256 entries or 1 MB of fields (a larger entry goes alone).
/// </summary>
sealed class StreamAppends :
    IStreamAppends
{
    /// <summary>The reply for an entry that was not appended again: the stream had it already.</summary>
    public const string Duplicate = "=";

    const int MaxBatchCount = 256;
    const long MaxBatchBytes = 1024 * 1024;

    /// <summary>How many streams' batchers are kept before the set is started afresh.</summary>
    const int MaxBatchers = 10_000;

    static readonly RedisValue EntriesMode = "entries";

    readonly ConcurrentDictionary<RedisKey, Batcher<PendingAppend>> _batchers = new();
    readonly ConcurrentDictionary<RedisKey, Batcher<PendingAppend>> _existingStreamBatchers = new();
    readonly RedisConnection _connection;
    readonly StreamKeys _keys;
    readonly AppendOptions _options;

    public StreamAppends(RedisConnection connection, StreamKeys keys, AppendOptions options)
    {
        _connection = connection;
        _keys = keys;
        _options = options;
    }

    public TimeSpan DuplicateDetectionWindow => _options.DuplicateDetectionWindow;

    public Task<string?> Append(RedisKey stream, NewEntry entry, bool onlyIfStreamExists)
    {
        var batchers = onlyIfStreamExists ? _existingStreamBatchers : _batchers;
        if (!batchers.TryGetValue(stream, out var batcher))
        {
            // Replies go to the temporary streams of buses that come and go: the set is forgotten now and then rather than
            // kept forever. A batcher in use carries on with what it has; only later appends take a new one.
            if (batchers.Count >= MaxBatchers)
                batchers.Clear();

            batcher = batchers.GetOrAdd(stream, key => new Batcher<PendingAppend>(batch => Send(key, batch, onlyIfStreamExists), MaxBatchCount,
                MaxBatchBytes, x => x.Entry.Size));
        }

        var pending = new PendingAppend(entry);
        Diagnostics.LatencyTrace.Mark(Diagnostics.LatencyStage.Appending);
        batcher.Add(pending);
        return pending.Task;
    }

    /// <summary>Appends one batch and hands each caller its own entry's outcome.</summary>
    async Task Send(RedisKey stream, IReadOnlyList<PendingAppend> batch, bool onlyIfStreamExists)
    {
        try
        {
            var outcomes = await AppendBatch(stream, batch, onlyIfStreamExists).ConfigureAwait(false);
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

    /// <summary>Appends entries to a stream in one script call, in order (mode <c>entries</c> of <c>append.lua</c>).</summary>
    /// <returns>Per entry: its ID, null when NOMKSTREAM found no stream, or the exception that refused it.</returns>
    async Task<object?[]> AppendBatch(RedisKey stream, IReadOnlyList<PendingAppend> batch, bool onlyIfStreamExists)
    {
        const int leading = 5;
        var length = leading;
        foreach (var pending in batch)
            length += 2 + pending.Entry.Count * 2;

        var multiplexer = await _connection.GetMultiplexer().ConfigureAwait(false);
        var database = multiplexer.GetDatabase();
        var cluster = _connection.IsCluster(multiplexer);

        var window = (long)_options.DuplicateDetectionWindow.TotalMilliseconds;
        var arguments = new RedisValue[length];
        arguments[0] = EntriesMode;
        arguments[1] = WakeChannels.PublishCommand(cluster);
        arguments[2] = _keys.WakeChannel(stream).ToString();
        arguments[3] = onlyIfStreamExists ? "1" : "0";
        arguments[4] = window;
        var index = leading;
        foreach (var pending in batch)
        {
            var entry = pending.Entry;
            arguments[index++] = window > 0 && !entry.DuplicateKey.IsNull ? entry.DuplicateKey : RedisValue.EmptyString;
            arguments[index++] = entry.Count;
            index = entry.CopyFieldsTo(arguments, index);
        }

        // The sent keys of a stream are kept per window, named by its number since the epoch: an entry remembered in window n
        // is found by every append until the end of window n + 1, so for at least one window, and its set expires after that.
        // Without detection the script reads neither; the stream stands in for them, and for the delayed keys it does not use.
        var generation = window > 0 ? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / window : 0;
        var sent = window > 0 ? _keys.Sent(stream, generation) : stream;
        var sentBefore = window > 0 ? _keys.Sent(stream, generation - 1) : stream;
        Diagnostics.LatencyTrace.Mark(Diagnostics.LatencyStage.ScriptSent);
        var result = await RedisScript.Append.Evaluate(database, [stream, _keys.Wake(stream), _keys.ClockFor(stream, cluster), sent, sentBefore, stream, stream],
            arguments).ConfigureAwait(false);
        Diagnostics.LatencyTrace.Mark(Diagnostics.LatencyStage.ScriptReplied);

        if (_options.WaitForReplicas > 0)
            await WaitForReplicas(multiplexer, database, stream, cluster).ConfigureAwait(false);

        var items = (RedisResult[])result!;
        var outcomes = new object?[batch.Count];
        for (var i = 0; i < outcomes.Length; i++)
        {
            var item = i < items.Length ? items[i] : null;
            if (item == null)
                outcomes[i] = new RedisException($"Appending to {stream} returned no result for entry {i + 1} of {batch.Count}.");
            else if (item.Resp2Type == ResultType.Integer)
                outcomes[i] = null;
            else
            {
                var text = (string?)item ?? "";
                outcomes[i] = text.StartsWith('!') ? ServerErrors.Create(text[1..]) : text;
            }
        }

        return outcomes;
    }

    /// <summary>
    /// Waits until <see cref="AppendOptions.WaitForReplicas" /> replicas have every write this connection made, the batch
    /// among them (WAIT). On the primary, so on the connection that carried the append: on a cluster, the primary that serves
    /// the stream's slot (a keyless command would go to any node).
    /// </summary>
    /// <seealso href="https://redis.io/commands/wait" />
    async Task WaitForReplicas(IConnectionMultiplexer multiplexer, IDatabase database, RedisKey stream, bool cluster)
    {
        object[] wait = [_options.WaitForReplicas, (long)_options.WaitForReplicasTimeout.TotalMilliseconds];
        var acknowledged = cluster
            ? (long)await multiplexer.GetServer(stream, null, CommandFlags.DemandMaster).ExecuteAsync("WAIT", wait).ConfigureAwait(false)
            : (long)await database.ExecuteAsync("WAIT", wait, CommandFlags.DemandMaster).ConfigureAwait(false);

        if (acknowledged < _options.WaitForReplicas)
        {
            throw new RedisException($"Only {acknowledged} of the {_options.WaitForReplicas} replicas asked for (WaitForReplicas) acknowledged the append "
                + $"to {stream} within {_options.WaitForReplicasTimeout}; the entries are on the primary, but may not survive a failover.");
        }
    }


    /// <summary>An append waiting for its batch, with the caller's result.</summary>
    sealed class PendingAppend :
        TaskCompletionSource<string?>
    {
        public PendingAppend(NewEntry entry)
            : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
            Entry = entry;
        }

        public NewEntry Entry { get; }
    }
}
