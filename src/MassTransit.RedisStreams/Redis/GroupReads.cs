namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>Reads through consumer groups and acknowledges what was read: the receive side of an endpoint.</summary>
interface IGroupReads
{
    /// <summary>Creates a consumer group (XGROUP CREATE ... MKSTREAM); one that exists already is left as it is.</summary>
    /// <returns>True when the group was created, false when it existed.</returns>
    /// <seealso href="https://redis.io/commands/xgroup-create" />
    Task<bool> CreateGroup(RedisKey stream, string group, RedisValue position);

    /// <summary>
    /// Reads new entries of a consumer group from several streams (never blocking): at most <paramref name="counts" />[i] from
    /// stream i, none where it is 0. With <paramref name="armWake" />, it first sets the streams' wake flags for that long, on
    /// the same connection, so that any append to one of them after the read publishes a wake-up.
    /// </summary>
    /// <remarks>
    /// When every stream gets the same count, one XREADGROUP reads them all at one instant. Otherwise each stream has its own
    /// XREADGROUP, sent in stream order on the same connection, so Redis runs them in that order (<see cref="ReadRound.Atomic" />).
    /// On a Redis Cluster, one XREADGROUP per hash slot, pipelined, each on the connection to its slot's node; each stream takes
    /// its IDs from its own clock there, so IDs of different streams do not order appends (<see cref="ReadRound.Ordered" />).
    /// </remarks>
    /// <seealso href="https://redis.io/commands/xreadgroup" />
    Task<ReadRound> ReadNew(IReadOnlyList<RedisKey> streams, IReadOnlyList<int> counts, string group, string consumer, TimeSpan? armWake);

    /// <summary>
    /// Reads entries of a group's pending list that were delivered to <paramref name="consumer" />, after
    /// <paramref name="after" />[i] in stream i, at most <paramref name="count" /> of each (XREADGROUP with an ID; on a
    /// Cluster, one per slot, pipelined). An entry deleted from the stream since comes back without fields.
    /// </summary>
    /// <seealso href="https://redis.io/commands/xreadgroup" />
    Task<StreamEntry[][]> ReadPending(IReadOnlyList<RedisKey> streams, IReadOnlyList<RedisValue> after, string group, string consumer, int count);

    /// <summary>Acknowledges entries (XACK), any number in one command.</summary>
    /// <seealso href="https://redis.io/commands/xack" />
    Task<long> Acknowledge(RedisKey stream, string group, RedisValue[] ids);
}


/// <summary>What one round of reads returned, per stream in the order asked.</summary>
/// <param name="Entries">The entries read from each stream, in ID order; empty where there were none.</param>
/// <param name="Atomic">
/// True when all streams were read at one instant (one command); false when each was read by its own command, in stream order.
/// </param>
/// <param name="Ordered">
/// True when entry IDs order appends across the streams (one Redis, one clock); false on a Redis Cluster, where each stream
/// has its own clock and the order holds per stream only.
/// </param>
readonly record struct ReadRound(StreamEntry[][] Entries, bool Atomic, bool Ordered = true);


/// <inheritdoc />
sealed class GroupReads :
    IGroupReads
{
    static readonly RedisValue WakeFlag = "x";

    readonly RedisConnection _connection;
    readonly StreamKeys _keys;

    public GroupReads(RedisConnection connection, StreamKeys keys)
    {
        _connection = connection;
        _keys = keys;
    }

    public async Task<bool> CreateGroup(RedisKey stream, string group, RedisValue position)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        try
        {
            return await database.StreamCreateConsumerGroupAsync(stream, group, position, true).ConfigureAwait(false);
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            return false;
        }
    }

    public async Task<ReadRound> ReadNew(IReadOnlyList<RedisKey> streams, IReadOnlyList<int> counts, string group, string consumer,
        TimeSpan? armWake)
    {
        var multiplexer = await _connection.GetMultiplexer().ConfigureAwait(false);
        var database = multiplexer.GetDatabase();
        var cluster = _connection.IsCluster(multiplexer);
        var results = new StreamEntry[streams.Count][];

        // The flags are set before the read, on the same connection, so no append falls between: one appended before is read,
        // one appended after clears a flag and publishes a wake-up.
        Task[]? arming = null;
        if (armWake is { } lifetime)
        {
            arming = new Task[streams.Count];
            for (var i = 0; i < streams.Count; i++)
                arming[i] = database.StringSetAsync(_keys.Wake(streams[i]), WakeFlag, lifetime);
        }

        if (IsUniform(counts))
        {
            var read = cluster
                ? await BySlot(multiplexer, streams, members => database.StreamReadGroupAsync(Positions(streams, members, StreamPosition.NewMessages), group,
                    consumer, counts[0])).ConfigureAwait(false)
                : [await database.StreamReadGroupAsync(Positions(streams, null, StreamPosition.NewMessages), group, consumer, counts[0]).ConfigureAwait(false)];

            if (arming != null)
                await Task.WhenAll(arming).ConfigureAwait(false);

            Collect(streams, read, results);
            return new ReadRound(results, read.Length == 1, !cluster);
        }

        // Different counts: one XREADGROUP per stream, pipelined in stream order on one connection, so they run in that order.
        var tasks = new List<Task>(streams.Count * 2);
        if (arming != null)
            tasks.AddRange(arming);

        var reads = new Task<StreamEntry[]>?[streams.Count];
        for (var i = 0; i < streams.Count; i++)
        {
            if (counts[i] <= 0)
                continue;

            reads[i] = database.StreamReadGroupAsync(streams[i], group, consumer, StreamPosition.NewMessages, counts[i]);
            tasks.Add(reads[i]!);
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);

        for (var i = 0; i < streams.Count; i++)
            results[i] = reads[i] is { } task ? await task.ConfigureAwait(false) : [];

        return new ReadRound(results, false, !cluster);
    }

    public async Task<StreamEntry[][]> ReadPending(IReadOnlyList<RedisKey> streams, IReadOnlyList<RedisValue> after, string group, string consumer,
        int count)
    {
        var multiplexer = await _connection.GetMultiplexer().ConfigureAwait(false);
        var database = multiplexer.GetDatabase();

        StreamPosition[] PositionsOf(List<int>? members)
        {
            var indexes = members ?? [..Indexes(streams.Count)];
            return indexes.ConvertAll(i => new StreamPosition(streams[i], after[i])).ToArray();
        }

        var read = _connection.IsCluster(multiplexer)
            ? await BySlot(multiplexer, streams, members => database.StreamReadGroupAsync(PositionsOf(members), group, consumer, count)).ConfigureAwait(false)
            : [await database.StreamReadGroupAsync(PositionsOf(null), group, consumer, count).ConfigureAwait(false)];

        var results = new StreamEntry[streams.Count][];
        Collect(streams, read, results);
        return results;
    }

    public async Task<long> Acknowledge(RedisKey stream, string group, RedisValue[] ids)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamAcknowledgeAsync(stream, group, ids).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="read" /> once per hash slot of <paramref name="streams" />, pipelined: one command reads one slot.</summary>
    static async Task<RedisStream[][]> BySlot(IConnectionMultiplexer multiplexer, IReadOnlyList<RedisKey> streams, Func<List<int>, Task<RedisStream[]>> read)
    {
        var slots = new Dictionary<int, List<int>>();
        for (var i = 0; i < streams.Count; i++)
        {
            var slot = multiplexer.HashSlot(streams[i]);
            if (!slots.TryGetValue(slot, out var members))
                slots.Add(slot, members = new List<int>(1));
            members.Add(i);
        }

        var reads = new List<Task<RedisStream[]>>(slots.Count);
        foreach (var members in slots.Values)
            reads.Add(read(members));

        return await Task.WhenAll(reads).ConfigureAwait(false);
    }

    static StreamPosition[] Positions(IReadOnlyList<RedisKey> streams, List<int>? members, RedisValue position)
    {
        if (members == null)
        {
            var all = new StreamPosition[streams.Count];
            for (var i = 0; i < all.Length; i++)
                all[i] = new StreamPosition(streams[i], position);
            return all;
        }

        return members.ConvertAll(i => new StreamPosition(streams[i], position)).ToArray();
    }

    static IEnumerable<int> Indexes(int count)
    {
        for (var i = 0; i < count; i++)
            yield return i;
    }

    static void Collect(IReadOnlyList<RedisKey> streams, RedisStream[][] reads, StreamEntry[][] results)
    {
        for (var i = 0; i < streams.Count; i++)
        {
            results[i] = [];
            foreach (var read in reads)
            {
                foreach (var stream in read)
                {
                    if (stream.Key == streams[i])
                        results[i] = stream.Entries ?? [];
                }
            }
        }
    }

    static bool IsUniform(IReadOnlyList<int> counts)
    {
        for (var i = 1; i < counts.Count; i++)
        {
            if (counts[i] != counts[0])
                return false;
        }

        return counts.Count > 0 && counts[0] > 0;
    }
}
