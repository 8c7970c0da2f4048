namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// Administration and inspection of streams: reading them whole, describing them, finding them, moving or removing groups,
/// entries and streams. What the event log, retention, the admin API and the operator's tool use, and what an endpoint does
/// to its own streams beside reading them.
/// </summary>
interface IStreamAdmin
{
    /// <summary>Entries between two IDs (XRANGE, or XREVRANGE for <paramref name="newestFirst" />); "-" and "+" are the ends, "(id" leaves an ID out.</summary>
    /// <seealso href="https://redis.io/commands/xrange" />
    Task<StreamEntry[]> Range(RedisKey stream, RedisValue first, RedisValue last, int count, bool newestFirst = false);

    /// <summary>What a stream holds (XINFO STREAM), or null when there is no such stream.</summary>
    /// <seealso href="https://redis.io/commands/xinfo-stream" />
    Task<StreamInfo?> GetStreamInfo(RedisKey stream);

    /// <summary>The consumer groups of a stream (XINFO GROUPS); none when there is no such stream.</summary>
    /// <seealso href="https://redis.io/commands/xinfo-groups" />
    Task<StreamGroupInfo[]> GetGroups(RedisKey stream);

    /// <summary>The consumers of a group (XINFO CONSUMERS).</summary>
    /// <seealso href="https://redis.io/commands/xinfo-consumers" />
    Task<StreamConsumerInfo[]> GetConsumers(RedisKey stream, string group);

    /// <summary>The memory a key takes, in bytes (MEMORY USAGE); null when the server or the user may not tell.</summary>
    /// <seealso href="https://redis.io/commands/memory-usage" />
    Task<long?> GetMemoryUsage(RedisKey key);

    /// <summary>
    /// On a Redis Cluster, the address of the primary that serves the hash slot of <paramref name="key" />, as the connection
    /// last learned the cluster's layout; null on one Redis.
    /// </summary>
    /// <seealso href="https://redis.io/commands/cluster-nodes/" />
    Task<string?> GetNode(RedisKey key);

    /// <summary>Moves a consumer group to a new last delivered ID (XGROUP SETID).</summary>
    /// <seealso href="https://redis.io/commands/xgroup-setid" />
    Task SetGroupPosition(RedisKey stream, string group, RedisValue lastDeliveredId);

    /// <summary>Deletes a consumer group (XGROUP DESTROY) with its pending entries list.</summary>
    /// <seealso href="https://redis.io/commands/xgroup-destroy" />
    Task DestroyGroup(RedisKey stream, string group);

    /// <summary>
    /// One page of a scan for stream keys matching <paramref name="pattern" /> (SCAN ... MATCH ... TYPE stream). On a Redis
    /// Cluster the scan goes through the connected primaries one after the other, in the order of their addresses, and the
    /// cursor names the primary too: <c>&lt;index&gt;:&lt;cursor&gt;</c>.
    /// </summary>
    /// <returns>The cursor to continue from ("0" when the scan is complete) and the keys found.</returns>
    /// <seealso href="https://redis.io/commands/scan" />
    Task<(RedisValue Cursor, RedisKey[] Keys)> ScanStreams(RedisValue cursor, string pattern, int count);

    /// <summary>Every stream key matching <paramref name="pattern" />, each once.</summary>
    Task<List<RedisKey>> ScanAllStreams(string pattern);

    /// <summary>True when the key exists (EXISTS).</summary>
    /// <seealso href="https://redis.io/commands/exists" />
    Task<bool> Exists(RedisKey key);

    /// <summary>Deletes entries from a stream (XDEL).</summary>
    /// <seealso href="https://redis.io/commands/xdel" />
    Task<long> Delete(RedisKey stream, RedisValue[] ids);

    /// <summary>Removes every entry of a stream and keeps the stream with its consumer groups (XTRIM MAXLEN 0).</summary>
    /// <returns>How many entries it removed.</returns>
    /// <seealso href="https://redis.io/commands/xtrim" />
    Task<long> RemoveAllEntries(RedisKey stream);

    /// <summary>Sets a stream's time to live (PEXPIRE); temporary endpoints refresh theirs while they run.</summary>
    /// <seealso href="https://redis.io/commands/pexpire" />
    Task Expire(RedisKey stream, TimeSpan ttl);

    /// <summary>Deletes a stream with its groups and its wake flag (DEL).</summary>
    /// <seealso href="https://redis.io/commands/del" />
    Task DeleteStream(RedisKey stream);

    /// <summary>Checks that the server answers (PING).</summary>
    /// <seealso href="https://redis.io/commands/ping" />
    Task Ping();
}


/// <inheritdoc />
sealed class StreamAdmin :
    IStreamAdmin
{
    readonly RedisConnection _connection;
    readonly StreamKeys _keys;

    public StreamAdmin(RedisConnection connection, StreamKeys keys)
    {
        _connection = connection;
        _keys = keys;
    }

    public async Task<StreamEntry[]> Range(RedisKey stream, RedisValue first, RedisValue last, int count, bool newestFirst = false)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamRangeAsync(stream, first, last, count, newestFirst ? Order.Descending : Order.Ascending).ConfigureAwait(false);
    }

    public async Task<StreamInfo?> GetStreamInfo(RedisKey stream)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        try
        {
            return await database.StreamInfoAsync(stream).ConfigureAwait(false);
        }
        catch (RedisServerException exception) when (exception.Message.Contains("no such key", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
    }

    public async Task<StreamGroupInfo[]> GetGroups(RedisKey stream)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        try
        {
            return await database.StreamGroupInfoAsync(stream).ConfigureAwait(false);
        }
        catch (RedisServerException exception) when (exception.Message.Contains("no such key", StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }
    }

    public async Task<StreamConsumerInfo[]> GetConsumers(RedisKey stream, string group)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamConsumerInfoAsync(stream, group).ConfigureAwait(false);
    }

    public async Task<long?> GetMemoryUsage(RedisKey key)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        try
        {
            var result = await database.ExecuteAsync("MEMORY", "USAGE", key).ConfigureAwait(false);
            return result.IsNull ? null : (long)result;
        }
        catch (RedisServerException)
        {
            return null;
        }
    }

    public async Task<string?> GetNode(RedisKey key)
    {
        var multiplexer = await _connection.GetMultiplexer().ConfigureAwait(false);
        if (!_connection.IsCluster(multiplexer))
            return null;

        foreach (var server in multiplexer.GetServers())
        {
            if (server.IsConnected && server.ClusterConfiguration?.GetBySlot(key) is { } node)
                return node.EndPoint switch
                {
                    System.Net.DnsEndPoint dns => dns.Host + ":" + dns.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    { } endPoint => endPoint.ToString(),
                    null => null
                };
        }

        return null;
    }

    public async Task SetGroupPosition(RedisKey stream, string group, RedisValue lastDeliveredId)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        await database.ExecuteAsync("XGROUP", "SETID", stream, group, lastDeliveredId).ConfigureAwait(false);
    }

    public async Task DestroyGroup(RedisKey stream, string group)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        await database.StreamDeleteConsumerGroupAsync(stream, group).ConfigureAwait(false);
    }

    public async Task<(RedisValue Cursor, RedisKey[] Keys)> ScanStreams(RedisValue cursor, string pattern, int count)
    {
        var multiplexer = await _connection.GetMultiplexer().ConfigureAwait(false);
        if (!_connection.IsCluster(multiplexer))
        {
            var result = await multiplexer.GetDatabase().ExecuteAsync("SCAN", cursor, "MATCH", pattern, "COUNT", count, "TYPE", "stream")
                .ConfigureAwait(false);

            var parts = (RedisResult[])result!;
            return ((RedisValue)parts[0], (RedisKey[])parts[1]!);
        }

        // A key that moves to another primary during the scan can be found twice, or, like any key SCAN does not guarantee,
        // not at all.
        var primaries = Array.FindAll(multiplexer.GetServers(), x => x.IsConnected && !x.IsReplica);
        Array.Sort(primaries, (a, b) => string.CompareOrdinal(a.EndPoint.ToString(), b.EndPoint.ToString()));

        var text = cursor.IsNullOrEmpty ? "0" : cursor.ToString();
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var index = colon < 0 ? 0 : int.Parse(text.AsSpan(0, colon), CultureInfo.InvariantCulture);
        var nodeCursor = colon < 0 ? text : text[(colon + 1)..];
        if (index >= primaries.Length)
            return ("0", []);

        var page = (RedisResult[])(await primaries[index].ExecuteAsync("SCAN", nodeCursor, "MATCH", pattern, "COUNT", count, "TYPE", "stream")
            .ConfigureAwait(false))!;
        var next = (string)page[0]!;
        var nextCursor = next != "0" ? $"{index}:{next}" : index + 1 < primaries.Length ? $"{index + 1}:0" : "0";

        return (nextCursor, (RedisKey[])page[1]!);
    }

    public async Task<List<RedisKey>> ScanAllStreams(string pattern)
    {
        var keys = new List<RedisKey>();
        var seen = new HashSet<RedisKey>();
        RedisValue cursor = "0";
        do
        {
            (cursor, var page) = await ScanStreams(cursor, pattern, 500).ConfigureAwait(false);
            foreach (var key in page)
            {
                // SCAN may return a key twice; on a cluster, so may two primaries while the key's slot moves.
                if (seen.Add(key))
                    keys.Add(key);
            }
        }
        while (cursor != "0");

        return keys;
    }

    public async Task<bool> Exists(RedisKey key)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        return await database.KeyExistsAsync(key).ConfigureAwait(false);
    }

    public async Task<long> Delete(RedisKey stream, RedisValue[] ids)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamDeleteAsync(stream, ids).ConfigureAwait(false);
    }

    public async Task<long> RemoveAllEntries(RedisKey stream)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamTrimAsync(stream, 0).ConfigureAwait(false);
    }

    public async Task Expire(RedisKey stream, TimeSpan ttl)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        await database.KeyExpireAsync(stream, ttl).ConfigureAwait(false);
    }

    public async Task DeleteStream(RedisKey stream)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        await Task.WhenAll(database.KeyDeleteAsync(stream), database.KeyDeleteAsync(_keys.Wake(stream))).ConfigureAwait(false);
    }

    public async Task Ping()
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        await database.PingAsync().ConfigureAwait(false);
    }
}
