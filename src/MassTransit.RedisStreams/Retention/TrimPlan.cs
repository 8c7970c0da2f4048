namespace MassTransit.RedisStreams.Retention;

using System.Collections.Generic;
using Redis;


/// <summary>What a trim pass would do now: the answer to a dry run, in the shape of <see cref="RedisStreamsTrimReport" />.</summary>
sealed class TrimPlan
{
    /// <summary>How many streams were looked at.</summary>
    public int StreamsExamined { get; init; }

    /// <summary>The streams whose policy would remove entries, or would remove more but for a group.</summary>
    public IReadOnlyList<StreamPlan> Streams { get; init; } = [];

    /// <summary>The groups of gone endpoints that would be removed, as <c>stream/group</c>.</summary>
    public IReadOnlyList<string> RemovedGroups { get; init; } = [];

    /// <summary>Host records that no entry and no delayed message can name any more: they would be removed.</summary>
    public int RemovedHostRecords { get; init; }

    /// <summary>Host records stored without a hold: the pass would give them one, so that a later pass can remove them.</summary>
    public long UnheldHostRecords { get; init; }

    /// <summary>Streams that would be taken out of <c>delayed-streams</c> because no delayed message waits for them.</summary>
    public int RemovedDelayedStreams { get; init; }


    /// <summary>One stream: its policy and what trimming it would do.</summary>
    public sealed record StreamPlan(string Stream, RedisStreamsRetentionPolicy Policy, StreamTrimPlan Trim);
}
