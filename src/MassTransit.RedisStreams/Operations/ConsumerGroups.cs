namespace MassTransit.RedisStreams.Operations;

using System;
using System.Linq;
using System.Threading.Tasks;
using History;
using Redis;


/// <summary>
/// The consumer groups of a stream, for an operator: list them, and remove the group of a retired endpoint, which otherwise
/// holds back retention for good (an entry a group has not acknowledged is never trimmed).
/// </summary>
sealed class ConsumerGroups
{
    readonly RedisGateway _redis;
    readonly StreamInspector _inspector;

    public ConsumerGroups(RedisGateway redis)
    {
        _redis = redis;
        _inspector = new StreamInspector(redis);
    }

    /// <summary>The stream with its groups, their consumers, pending entries, lag, last delivered entry and idle times.</summary>
    public Task<RedisStreamsStreamInfo> Describe(OperatedStream stream) => _inspector.Describe(stream.Key, stream.Name, stream.Kind);

    /// <summary>
    /// As <see cref="Describe" />, but a message type's event stream with its partitions, when it has any: totalled, with each
    /// partition listed (see <see cref="RedisStreamsStreamInfo.Partitions" />).
    /// </summary>
    public async Task<RedisStreamsStreamInfo> DescribeType(OperatedStream stream)
    {
        if (stream.Kind is not (RedisStreamsStreamKind.Events or RedisStreamsStreamKind.Faults) || PartitionKeys.TryParse(stream.Name, out _, out _, out _))
            return await Describe(stream).ConfigureAwait(false);

        var sources = await _redis.Types.GetSources(stream.Key).ConfigureAwait(false);
        return await _inspector.DescribeType(stream.Name, sources).ConfigureAwait(false);
    }

    /// <summary>"3 partitions", or "5 partitions in 2 layouts (2, 3)" while an older partition count drains; empty when none.</summary>
    public static string PartitionsLabel(RedisStreamsStreamInfo info)
    {
        if (info.Partitions.Count == 0)
            return "";

        var layouts = info.Partitions.Select(x => x.PartitionCount ?? 0).Distinct().Order().ToArray();
        return layouts.Length == 1
            ? $"{info.Partitions.Count} partitions"
            : $"{info.Partitions.Count} partitions in {layouts.Length} layouts ({string.Join(", ", layouts)})";
    }

    /// <summary>
    /// Removes a group (XGROUP DESTROY) with its pending entries list and, on an event stream, its registration as a subscriber of
    /// the type, so that retention no longer keeps entries for it; on a partitioned type's stream, from every partition too.
    /// An endpoint that still runs creates its group again.
    /// </summary>
    /// <returns>The group as it was.</returns>
    /// <exception cref="ArgumentException">The stream has no such group.</exception>
    public async Task<RedisStreamsGroupInfo> Delete(OperatedStream stream, string group)
    {
        var info = await DescribeType(stream).ConfigureAwait(false);
        var found = info.Groups.FirstOrDefault(x => x.Name == group)
            ?? throw new ArgumentException($"{stream.DisplayName} has no consumer group '{group}'.");

        if (stream.Kind is RedisStreamsStreamKind.Events or RedisStreamsStreamKind.Faults)
        {
            // A partitioned type's group is on each of its partitions too: all of them hold entries back for it.
            foreach (var partition in info.Partitions.Where(x => x.Groups.Any(g => g.Name == group)))
                await _redis.Admin.DestroyGroup(partition.StreamKey, group).ConfigureAwait(false);
        }

        if (info.Partitions.Count == 0 || (await Describe(stream).ConfigureAwait(false)).Groups.Any(x => x.Name == group))
            await _redis.Admin.DestroyGroup(stream.Key, group).ConfigureAwait(false);
        if (stream.Kind is RedisStreamsStreamKind.Events or RedisStreamsStreamKind.Faults)
            await _redis.Types.UnregisterSubscriber(stream.Key, group).ConfigureAwait(false);

        return found;
    }
}
