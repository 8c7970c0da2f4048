namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>Moves entries from one stream to another: what an operator's move and requeue do.</summary>
interface IStreamMoves
{
    /// <summary>
    /// Appends each entry to <paramref name="target" /> (as <see cref="IStreamAppends.Append" /> does: an ID from the clock, a
    /// wake-up for idle readers) and deletes it from <paramref name="source" />. When both streams are in one hash slot —
    /// always on one Redis — both happen in one script call per batch (<c>append.lua</c>, mode <c>move</c>), and an entry the
    /// source no longer has is not appended. Otherwise (a Redis Cluster, two slots) each entry is appended first and deleted
    /// after, so that an interruption leaves it in both streams, never in neither.
    /// </summary>
    /// <param name="source">The stream the entries are in.</param>
    /// <param name="target">The stream they go to.</param>
    /// <param name="entries">Each entry's ID in <paramref name="source" /> and the fields it is appended with.</param>
    /// <returns>Per entry, in order: its new ID, or null when the source no longer had it.</returns>
    /// <seealso href="https://redis.io/commands/xadd" />
    /// <seealso href="https://redis.io/commands/xdel" />
    Task<string?[]> Move(RedisKey source, RedisKey target, IReadOnlyList<(RedisValue Id, NewEntry Fields)> entries);

    /// <summary>True when a move from <paramref name="source" /> to <paramref name="target" /> is one step per entry.</summary>
    Task<bool> IsAtomic(RedisKey source, RedisKey target);
}


/// <inheritdoc />
sealed class StreamMoves :
    IStreamMoves
{
    static readonly RedisValue MoveMode = "move";

    readonly IStreamAppends _appends;
    readonly RedisConnection _connection;
    readonly StreamKeys _keys;

    public StreamMoves(RedisConnection connection, StreamKeys keys, IStreamAppends appends)
    {
        _connection = connection;
        _keys = keys;
        _appends = appends;
    }

    public async Task<bool> IsAtomic(RedisKey source, RedisKey target)
    {
        var multiplexer = await _connection.GetMultiplexer().ConfigureAwait(false);

        return !_connection.IsCluster(multiplexer) || multiplexer.HashSlot(source) == multiplexer.HashSlot(target);
    }

    public async Task<string?[]> Move(RedisKey source, RedisKey target, IReadOnlyList<(RedisValue Id, NewEntry Fields)> entries)
    {
        if (entries.Count == 0)
            return [];

        return await IsAtomic(source, target).ConfigureAwait(false)
            ? await MoveInOneStep(source, target, entries).ConfigureAwait(false)
            : await AppendThenDelete(source, target, entries).ConfigureAwait(false);
    }

    async Task<string?[]> MoveInOneStep(RedisKey source, RedisKey target, IReadOnlyList<(RedisValue Id, NewEntry Fields)> entries)
    {
        const int leading = 3;
        var length = leading;
        foreach (var (_, fields) in entries)
            length += 2 + fields.Count * 2;

        var multiplexer = await _connection.GetMultiplexer().ConfigureAwait(false);
        var cluster = _connection.IsCluster(multiplexer);

        var arguments = new RedisValue[length];
        arguments[0] = MoveMode;
        arguments[1] = WakeChannels.PublishCommand(cluster);
        arguments[2] = _keys.WakeChannel(target).ToString();
        var index = leading;
        foreach (var (id, fields) in entries)
        {
            arguments[index++] = id;
            arguments[index++] = fields.Count;
            index = fields.CopyFieldsTo(arguments, index);
        }

        var result = await RedisScript.Append.Evaluate(multiplexer.GetDatabase(),
            [target, _keys.Wake(target), _keys.ClockFor(target, cluster), source, target, target, target], arguments).ConfigureAwait(false);

        var items = (RedisResult[])result!;
        var moved = new string?[entries.Count];
        for (var i = 0; i < moved.Length; i++)
        {
            var item = i < items.Length ? items[i] : null;
            if (item == null || item.Resp2Type == ResultType.Integer)
                continue;

            var text = (string?)item ?? "";
            if (text.StartsWith('!'))
                throw ServerErrors.Create($"Moving entry {entries[i].Id} from {source} to {target} failed: {text[1..]}");

            moved[i] = text;
        }

        return moved;
    }

    async Task<string?[]> AppendThenDelete(RedisKey source, RedisKey target, IReadOnlyList<(RedisValue Id, NewEntry Fields)> entries)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        var moved = new string?[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            var (id, fields) = entries[i];
            if ((await database.StreamRangeAsync(source, id, id, 1).ConfigureAwait(false)).Length == 0)
                continue;

            moved[i] = await _appends.Append(target, fields, onlyIfStreamExists: false).ConfigureAwait(false);
            await database.StreamDeleteAsync(source, [id]).ConfigureAwait(false);
        }

        return moved;
    }
}
