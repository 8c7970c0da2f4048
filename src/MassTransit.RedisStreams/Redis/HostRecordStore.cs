namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// The host records of the processes that wrote entries, by the ID their entries name in <c>MT-Host</c>, and until when each
/// may be named (<c>{hosts}:held</c>).
/// </summary>
interface IHostRecordStore
{
    /// <summary>
    /// Holds records for <paramref name="hold" /> from now by the server's clock (<c>hold-host-records.lua</c>); a record given
    /// with its JSON is stored first unless it is there. A record not stored and given without JSON is not held.
    /// </summary>
    /// <returns>How many of the records are held.</returns>
    /// <seealso href="https://redis.io/commands/zadd" />
    Task<long> Hold(TimeSpan hold, IReadOnlyList<(string Id, string? Json)> records);

    /// <summary>The record named <paramref name="id" />, or null. A blocking read: it runs once per host.</summary>
    /// <seealso href="https://redis.io/commands/hget" />
    string? Get(string id);

    /// <summary>The first <paramref name="limit" /> records whose hold ends before <paramref name="cutoffMs" /> (Unix ms), with the end of each.</summary>
    /// <seealso href="https://redis.io/commands/zrangebyscore" />
    Task<SortedSetEntry[]> GetHeldBefore(long cutoffMs, int limit);

    /// <summary>
    /// Removes those of <paramref name="ids" /> whose hold still ends before <paramref name="cutoffMs" />, each in the step that
    /// checks it (<c>remove-host-records.lua</c>).
    /// </summary>
    /// <returns>How many were removed.</returns>
    /// <seealso href="https://redis.io/commands/hdel" />
    Task<long> Remove(long cutoffMs, IReadOnlyList<string> ids);

    /// <summary>
    /// Gives every stored record that has no hold (stored by a version before holds) one until <paramref name="until" />, so
    /// that retention can remove it after; a look at the counts first, and a walk of the hash only when they differ.
    /// </summary>
    /// <returns>How many records got a hold.</returns>
    /// <seealso href="https://redis.io/commands/hscan" />
    Task<long> HoldUnheld(DateTimeOffset until);

    /// <summary>How many stored records have no hold, as the counts tell: what <see cref="HoldUnheld" /> would hold.</summary>
    /// <seealso href="https://redis.io/commands/hlen" />
    Task<long> CountUnheld();

    /// <summary>The server's time: the clock of holds and entry IDs.</summary>
    /// <seealso href="https://redis.io/commands/time" />
    Task<DateTimeOffset> ServerTime();
}


/// <inheritdoc />
sealed class HostRecordStore :
    IHostRecordStore
{
    readonly RedisConnection _connection;
    readonly StreamKeys _keys;

    public HostRecordStore(RedisConnection connection, StreamKeys keys)
    {
        _connection = connection;
        _keys = keys;
    }

    public async Task<long> Hold(TimeSpan hold, IReadOnlyList<(string Id, string? Json)> records)
    {
        if (records.Count == 0)
            return 0;

        var arguments = new RedisValue[1 + records.Count * 2];
        arguments[0] = (long)Math.Ceiling(hold.TotalMilliseconds);
        for (var i = 0; i < records.Count; i++)
        {
            arguments[1 + i * 2] = records[i].Id;
            arguments[2 + i * 2] = records[i].Json ?? "";
        }

        var database = await _connection.GetDatabase().ConfigureAwait(false);
        return (long)await RedisScript.HoldHostRecords.Evaluate(database, [_keys.Hosts, _keys.HostHolds], arguments).ConfigureAwait(false);
    }

    public string? Get(string id)
    {
        return _connection.GetMultiplexer().GetAwaiter().GetResult().GetDatabase().HashGet(_keys.Hosts, id);
    }

    public async Task<SortedSetEntry[]> GetHeldBefore(long cutoffMs, int limit)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        return await database.SortedSetRangeByScoreWithScoresAsync(_keys.HostHolds, double.NegativeInfinity, cutoffMs, Exclude.Stop, take: limit)
            .ConfigureAwait(false);
    }

    public async Task<long> Remove(long cutoffMs, IReadOnlyList<string> ids)
    {
        if (ids.Count == 0)
            return 0;

        var arguments = new RedisValue[ids.Count + 1];
        arguments[0] = cutoffMs;
        for (var i = 0; i < ids.Count; i++)
            arguments[i + 1] = ids[i];

        var database = await _connection.GetDatabase().ConfigureAwait(false);
        return (long)await RedisScript.RemoveHostRecords.Evaluate(database, [_keys.Hosts, _keys.HostHolds], arguments).ConfigureAwait(false);
    }

    public async Task<long> HoldUnheld(DateTimeOffset until)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        var stored = database.HashLengthAsync(_keys.Hosts);
        var held = database.SortedSetLengthAsync(_keys.HostHolds);
        if (await stored.ConfigureAwait(false) <= await held.ConfigureAwait(false))
            return 0;

        long added = 0;
        var score = until.ToUnixTimeMilliseconds();
        var batch = new List<SortedSetEntry>(256);
        await foreach (var entry in database.HashScanAsync(_keys.Hosts, pageSize: 256).ConfigureAwait(false))
        {
            batch.Add(new SortedSetEntry(entry.Name, score));
            if (batch.Count == 256)
            {
                added += await database.SortedSetAddAsync(_keys.HostHolds, batch.ToArray(), SortedSetWhen.NotExists).ConfigureAwait(false);
                batch.Clear();
            }
        }

        if (batch.Count > 0)
            added += await database.SortedSetAddAsync(_keys.HostHolds, batch.ToArray(), SortedSetWhen.NotExists).ConfigureAwait(false);

        return added;
    }

    public async Task<long> CountUnheld()
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        var stored = database.HashLengthAsync(_keys.Hosts);
        var held = database.SortedSetLengthAsync(_keys.HostHolds);
        return Math.Max(0, await stored.ConfigureAwait(false) - await held.ConfigureAwait(false));
    }

    public async Task<DateTimeOffset> ServerTime()
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        // Keyless: on a Cluster any node answers; retention allows for the nodes' clocks differing a little.
        var time = (RedisResult[])(await database.ExecuteAsync("TIME").ConfigureAwait(false))!;
        return DateTimeOffset.FromUnixTimeMilliseconds((long)time[0] * 1000 + (long)time[1] / 1000);
    }
}
