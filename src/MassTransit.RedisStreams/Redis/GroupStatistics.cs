namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// Where consumer groups stand — lag, pending, the oldest pending entry — read for metrics and health: a bounded sample, made
/// at an interval, never on the path of a message.
/// </summary>
interface IGroupStatistics
{
    /// <summary>
    /// For each stream and group: XINFO GROUPS (lag and pending) and XPENDING's summary (the oldest pending ID), all
    /// pipelined, so one sample of any number of groups is one round trip per server. A stream or group that does not
    /// exist gives a sample with nothing pending and no lag.
    /// </summary>
    /// <seealso href="https://redis.io/commands/xinfo-groups" />
    /// <seealso href="https://redis.io/commands/xpending" />
    Task<GroupStatistic[]> Sample(IReadOnlyList<(RedisKey Stream, string Group)> groups);
}


/// <summary>Where one consumer group stands on one stream.</summary>
/// <param name="Lag">Entries not read yet; null when Redis cannot tell (entries were removed past the group's position).</param>
/// <param name="Pending">Entries read and not acknowledged, by every consumer of the group.</param>
/// <param name="OldestPending">When the oldest pending entry was appended (its ID's time); null with nothing pending.</param>
readonly record struct GroupStatistic(long? Lag, long Pending, DateTimeOffset? OldestPending);


/// <inheritdoc />
sealed class GroupStatistics :
    IGroupStatistics
{
    readonly RedisConnection _connection;

    public GroupStatistics(RedisConnection connection)
    {
        _connection = connection;
    }

    public async Task<GroupStatistic[]> Sample(IReadOnlyList<(RedisKey Stream, string Group)> groups)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        var infos = new Task<StreamGroupInfo[]>[groups.Count];
        var pendings = new Task<StreamPendingInfo>[groups.Count];
        for (var i = 0; i < groups.Count; i++)
        {
            infos[i] = database.StreamGroupInfoAsync(groups[i].Stream);
            pendings[i] = database.StreamPendingAsync(groups[i].Stream, groups[i].Group);
        }

        var results = new GroupStatistic[groups.Count];
        for (var i = 0; i < groups.Count; i++)
        {
            long? lag = null;
            long pending = 0;
            DateTimeOffset? oldest = null;

            try
            {
                foreach (var info in await infos[i].ConfigureAwait(false))
                {
                    if (info.Name != groups[i].Group)
                        continue;

                    lag = info.Lag;
                    pending = info.PendingMessageCount;
                }

                var summary = await pendings[i].ConfigureAwait(false);
                if (summary.PendingMessageCount > 0 && StreamEntryId.TryParse(summary.LowestPendingMessageId, out var lowest))
                    oldest = lowest.Timestamp;
            }
            catch (RedisServerException exception) when (exception.Message.Contains("no such key", StringComparison.OrdinalIgnoreCase)
                || exception.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
            {
            }

            results[i] = new GroupStatistic(lag, pending, oldest);
        }

        return results;
    }
}
