namespace MassTransit;

using System.Collections.Generic;


/// <summary>What a trim pass did: the answer to <see cref="IRedisStreamsAdmin.Trim" />.</summary>
public sealed class RedisStreamsTrimReport
{
    /// <summary>How many streams were looked at.</summary>
    public int StreamsExamined { get; init; }

    /// <summary>The entries removed, by stream key; only streams that lost entries are listed.</summary>
    public IReadOnlyDictionary<string, long> Removed { get; init; } = new Dictionary<string, long>();

    /// <summary>
    /// The entries written to the archive before they were removed, by stream key (see
    /// <see cref="IRedisStreamsRetentionConfigurator.Archive" />); only streams that archived entries are listed.
    /// </summary>
    public IReadOnlyDictionary<string, long> Archived { get; init; } = new Dictionary<string, long>();

    /// <summary>
    /// Streams whose archive failed this pass (a full disk, a bucket out of reach), with the error: nothing more was removed
    /// from them, and the next pass tries again.
    /// </summary>
    public IReadOnlyDictionary<string, string> ArchiveFailures { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Streams where the policy would have removed more, but a consumer group still needs the entries: by stream key, the
    /// group furthest behind (an endpoint that lags, or holds an old entry unacknowledged).
    /// </summary>
    public IReadOnlyDictionary<string, string> KeptForGroup { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Consumer groups and subscriber registrations removed from event streams, as <c>stream/group</c>: those of temporary
    /// endpoints that are gone (their queue stream expired, see
    /// <see cref="IRedisStreamsRetentionConfigurator.TemporaryGroupExpiry" />), and, when
    /// <see cref="IRedisStreamsRetentionConfigurator.InactiveGroupExpiry" /> is set, those of durable endpoints inactive that
    /// long.
    /// </summary>
    public IReadOnlyList<string> RemovedGroups { get; init; } = [];

    /// <summary>
    /// Host records removed from the <c>hosts</c> hash: records no entry and no delayed message can still name. Counted when a
    /// pass completes a round of every stream (every pass of <see cref="IRedisStreamsAdmin.Trim" />), 0 otherwise.
    /// </summary>
    public int RemovedHostRecords { get; init; }

    /// <summary>
    /// Streams taken out of <c>delayed-streams</c> because no delayed message waits for them. Counted when a pass completes a
    /// round of every stream, 0 otherwise.
    /// </summary>
    public int RemovedDelayedStreams { get; init; }

    /// <summary>The total of <see cref="Removed" />.</summary>
    public long TotalRemoved
    {
        get
        {
            long total = 0;
            foreach (var removed in Removed.Values)
                total += removed;

            return total;
        }
    }
}
