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
    /// result carries the cursor to continue from ("0-0" after a full pass) and how many pending entries had no stream entry
    /// behind them any more, which Redis has removed from the pending list.
    /// </summary>
    /// <seealso href="https://redis.io/commands/xautoclaim" />
    Task<IdleClaim> ClaimIdle(RedisKey stream, string group, string consumer, TimeSpan minIdle, RedisValue cursor, int count);

    /// <summary>The delivery counts of a consumer's pending entries between two IDs (XPENDING with a range and a consumer).</summary>
    /// <seealso href="https://redis.io/commands/xpending" />
    Task<PendingEntry[]> GetPending(RedisKey stream, string group, string consumer, RedisValue first, RedisValue last, int count);

    /// <summary>A consumer's pending entries idle at least <paramref name="minIdle" />, oldest first (XPENDING with IDLE).</summary>
    /// <seealso href="https://redis.io/commands/xpending" />
    Task<PendingEntry[]> GetIdlePending(RedisKey stream, string group, string consumer, TimeSpan minIdle, int count);

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


/// <summary>What a claim of idle entries took.</summary>
/// <param name="NextStart">Where the next claim goes on; "0-0" after a full pass.</param>
/// <param name="Claimed">The entries claimed, with their fields.</param>
/// <param name="Deleted">How many pending entries had no stream entry behind them any more.</param>
readonly record struct IdleClaim(RedisValue NextStart, StreamEntry[] Claimed, int Deleted);


/// <summary>An entry of a pending list: its ID and how often it has been delivered.</summary>
readonly record struct PendingEntry(RedisValue Id, int DeliveryCount);


/// <inheritdoc />
sealed class PendingLists :
    IPendingLists
{
    readonly RedisConnection _connection;

    public PendingLists(RedisConnection connection)
    {
        _connection = connection;
    }

    public async Task<IdleClaim> ClaimIdle(RedisKey stream, string group, string consumer, TimeSpan minIdle, RedisValue cursor, int count)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        var result = await database.StreamAutoClaimAsync(stream, group, consumer, Ms(minIdle), cursor, count).ConfigureAwait(false);

        return new IdleClaim(result.NextStartId, result.ClaimedEntries ?? [], result.DeletedIds?.Length ?? 0);
    }

    public async Task<PendingEntry[]> GetPending(RedisKey stream, string group, string consumer, RedisValue first, RedisValue last, int count)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        var pending = await database.StreamPendingMessagesAsync(stream, group, count, consumer, first, last).ConfigureAwait(false);

        return Array.ConvertAll(pending, x => new PendingEntry(x.MessageId, x.DeliveryCount));
    }

    public async Task<PendingEntry[]> GetIdlePending(RedisKey stream, string group, string consumer, TimeSpan minIdle, int count)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        var pending = await database.StreamPendingMessagesAsync(stream, group, count, consumer, "-", "+", Ms(minIdle)).ConfigureAwait(false);

        return Array.ConvertAll(pending, x => new PendingEntry(x.MessageId, x.DeliveryCount));
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
