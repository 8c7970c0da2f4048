namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// The pending lists of consumer groups (entries read and not acknowledged) and claims from them: what recovers the work of
/// a crashed, frozen or cut-off instance.
/// </summary>
interface IPendingLists
{
    /// <summary>
    /// Claims entries of a group idle at least <paramref name="minIdle" /> (XAUTOCLAIM), from <paramref name="cursor" /> on. The
    /// result carries the cursor to continue from ("0-0" after a full pass) and the IDs of pending entries whose stream entry no
    /// longer exists, which Redis has removed from the pending list.
    /// </summary>
    /// <seealso href="https://redis.io/commands/xautoclaim" />
    Task<StreamAutoClaimResult> ClaimIdle(RedisKey stream, string group, string consumer, TimeSpan minIdle, RedisValue cursor, int count);

    /// <summary>The delivery counts of a consumer's pending entries between two IDs (XPENDING with a range and a consumer).</summary>
    /// <seealso href="https://redis.io/commands/xpending" />
    Task<StreamPendingMessageInfo[]> GetPending(RedisKey stream, string group, string consumer, RedisValue first, RedisValue last, int count);

    /// <summary>A consumer's pending entries idle at least <paramref name="minIdle" />, oldest first (XPENDING with IDLE).</summary>
    /// <seealso href="https://redis.io/commands/xpending" />
    Task<StreamPendingMessageInfo[]> GetIdlePending(RedisKey stream, string group, string consumer, TimeSpan minIdle, int count);

    /// <summary>
    /// Claims the given entries for <paramref name="consumer" /> (XCLAIM), each only if it is still idle at least
    /// <paramref name="minIdle" />, so that of two claimers only one gets an entry, and an entry just read by its holder stays.
    /// Entries deleted from the stream meanwhile are dropped from the pending list by Redis.
    /// </summary>
    /// <seealso href="https://redis.io/commands/xclaim" />
    Task<StreamEntry[]> Claim(RedisKey stream, string group, string consumer, TimeSpan minIdle, RedisValue[] ids);

    /// <summary>
    /// Sets the idle time of those of <paramref name="ids" /> still pending for <paramref name="consumer" /> (<c>set-idle-time.lua</c>):
    /// 0 keeps them from being claimed by others, a long time hands them over at the next claim.
    /// </summary>
    /// <returns>The IDs that are no longer this consumer's: acknowledged, or claimed by another.</returns>
    Task<RedisValue[]> SetIdleTime(RedisKey stream, string group, string consumer, IReadOnlyList<RedisValue> ids, TimeSpan idle);

    /// <summary>
    /// Deletes consumers of a group that have nothing pending and were idle at least <paramref name="minIdle" />
    /// (<c>remove-consumers.lua</c>): only <paramref name="onlyConsumer" /> when given, else every one but
    /// <paramref name="exceptConsumer" />.
    /// </summary>
    /// <returns>The names deleted.</returns>
    Task<string[]> RemoveIdleConsumers(RedisKey stream, string group, TimeSpan minIdle, string? onlyConsumer, string exceptConsumer);
}


/// <inheritdoc />
sealed class PendingLists :
    IPendingLists
{
    readonly RedisConnection _connection;

    public PendingLists(RedisConnection connection)
    {
        _connection = connection;
    }

    public async Task<StreamAutoClaimResult> ClaimIdle(RedisKey stream, string group, string consumer, TimeSpan minIdle, RedisValue cursor, int count)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamAutoClaimAsync(stream, group, consumer, Ms(minIdle), cursor, count).ConfigureAwait(false);
    }

    public async Task<StreamPendingMessageInfo[]> GetPending(RedisKey stream, string group, string consumer, RedisValue first, RedisValue last, int count)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamPendingMessagesAsync(stream, group, count, consumer, first, last).ConfigureAwait(false);
    }

    public async Task<StreamPendingMessageInfo[]> GetIdlePending(RedisKey stream, string group, string consumer, TimeSpan minIdle, int count)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamPendingMessagesAsync(stream, group, count, consumer, "-", "+", Ms(minIdle)).ConfigureAwait(false);
    }

    public async Task<StreamEntry[]> Claim(RedisKey stream, string group, string consumer, TimeSpan minIdle, RedisValue[] ids)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamClaimAsync(stream, group, consumer, Ms(minIdle), ids).ConfigureAwait(false);
    }

    public async Task<RedisValue[]> SetIdleTime(RedisKey stream, string group, string consumer, IReadOnlyList<RedisValue> ids, TimeSpan idle)
    {
        var arguments = new RedisValue[3 + ids.Count];
        arguments[0] = group;
        arguments[1] = consumer;
        arguments[2] = Ms(idle);
        for (var i = 0; i < ids.Count; i++)
            arguments[3 + i] = ids[i];

        var database = await _connection.GetDatabase().ConfigureAwait(false);
        var result = await RedisScript.SetIdleTime.Evaluate(database, [stream], arguments).ConfigureAwait(false);

        return (RedisValue[]?)result ?? [];
    }

    public async Task<string[]> RemoveIdleConsumers(RedisKey stream, string group, TimeSpan minIdle, string? onlyConsumer, string exceptConsumer)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        var result = await RedisScript.RemoveConsumers.Evaluate(database, [stream], [group, Ms(minIdle), onlyConsumer ?? "", exceptConsumer])
            .ConfigureAwait(false);

        return Array.ConvertAll((RedisValue[]?)result ?? [], x => x.ToString());
    }

    static long Ms(TimeSpan time) => (long)time.TotalMilliseconds;
}
