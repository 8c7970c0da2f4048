namespace MassTransit.RedisStreams.Retention;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;


/// <summary>
/// Archives what a retention policy removes from an event stream before it is removed. Per stream, under the retention lease:
/// <list type="number">
/// <item>Remove the entries at or below the mark (<c>{stream}:archived</c>) that are still in the stream (a pass stopped before it
/// trimmed): they are never archived again.</item>
/// <item>Work out, with the trim script's plan, what the policy removes now. When it removes anything, reconcile first: the
/// archive is the truth, and a segment past the mark (stored by a pass that stopped before it moved the mark) moves the mark to
/// it instead of being written again.</item>
/// <item>Read those entries after the mark, a bounded page at a time, into segments: each is written to a temporary name,
/// flushed, and put in place (renamed, or stored as an object); then the mark moves to its last entry; then the stream is
/// trimmed up to the mark.</item>
/// </list>
/// A crash between any two steps loses nothing (an entry leaves Redis only once its segment is durable and the mark covers it)
/// and archives nothing twice (the next pass takes the stored segment as written). Readers read the archive up to the mark and
/// the stream after it.
/// </summary>
sealed class StreamArchiver
{
    const int PageSize = 1000;

    readonly IStreamAdmin _admin;
    readonly IArchiveMarks _marks;
    readonly IStreamTrimming _trimming;

    public StreamArchiver(RedisGateway redis)
    {
        _admin = redis.Admin;
        _marks = redis.Archives;
        _trimming = redis.Trimming;
    }

    /// <summary>Archives and then removes what <paramref name="policy" /> removes from <paramref name="stream" />.</summary>
    /// <returns>The entries archived, the entries removed, and the group that kept the policy from removing more.</returns>
    public async Task<(long Archived, long Removed, string? KeptFor)> Archive(RedisKey stream, IRedisStreamsArchive archive,
        RedisStreamsRetentionPolicy policy, int countLimit, CancellationToken cancellationToken)
    {
        var key = stream.ToString();

        // What a pass that died after moving the mark left in the stream.
        var (removed, keptFor) = await _marks.TrimArchived(stream).ConfigureAwait(false);

        var plan = await _trimming.Plan(stream, policy.MaxEntries, policy.MaxAge, countLimit).ConfigureAwait(false);
        if (!Removes(plan))
            return (0, removed, keptFor ?? plan.KeptFor);

        // Something to archive: the archive is listed before writing, every time, so that a segment another pass stored and did
        // not record (it died, or lost the lease) is taken as written rather than written again; the plan then starts after it.
        var before = await _marks.Get(stream).ConfigureAwait(false);
        var mark = await Reconcile(stream, archive, before, cancellationToken).ConfigureAwait(false);
        if (mark != before)
        {
            var (trimmed, kept) = await _marks.TrimArchived(stream).ConfigureAwait(false);
            removed += trimmed;
            keptFor ??= kept;

            plan = await _trimming.Plan(stream, policy.MaxEntries, policy.MaxAge, countLimit).ConfigureAwait(false);
            if (!Removes(plan))
                return (0, removed, keptFor ?? plan.KeptFor);
        }

        keptFor ??= plan.KeptFor;

        // What the policy removes: the entries below an ID, or the oldest ones down to a length.
        StreamEntryId? below = plan.MinId != null ? StreamEntryId.Parse(plan.MinId) : null;
        var remaining = plan.MaxLength != null ? plan.Removed : long.MaxValue;

        long archived = 0;
        while (remaining > 0)
        {
            var read = new SegmentSource(_admin, stream, mark, below, Math.Min(remaining, archive.SegmentEntries));
            var segment = await archive.Write(key, read.Entries(cancellationToken), cancellationToken).ConfigureAwait(false);
            if (segment == null)
                break;

            ArchiveSteps.Reach(ArchiveSteps.Stored);

            mark = await _marks.Advance(stream, StreamEntryId.Parse(segment.LastEntryId)).ConfigureAwait(false);
            ArchiveSteps.Reach(ArchiveSteps.Recorded);

            var (segmentTrimmed, segmentKept) = await _marks.TrimArchived(stream).ConfigureAwait(false);
            ArchiveSteps.Reach(ArchiveSteps.Trimmed);

            removed += segmentTrimmed;
            keptFor ??= segmentKept;
            archived += segment.Count;
            remaining -= segment.Count;

            if (!read.Full)
                break;
        }

        return (archived, removed, keptFor);
    }

    /// <summary>Whether a plan removes entries: below an ID, or down to a length.</summary>
    static bool Removes(StreamTrimPlan plan) =>
        plan.Removed > 0 && (plan.MaxLength != null || (plan.MinId != null && StreamEntryId.Parse(plan.MinId) != StreamEntryId.Zero));

    /// <summary>The mark, moved forward to the newest segment in the archive if a pass stored one and stopped before moving it.</summary>
    async Task<StreamEntryId?> Reconcile(RedisKey stream, IRedisStreamsArchive archive, StreamEntryId? mark, CancellationToken cancellationToken)
    {
        var key = stream.ToString();

        var segments = await archive.GetSegments(key, cancellationToken).ConfigureAwait(false);
        if (segments.Count == 0)
            return mark;

        var newest = segments.Select(x => StreamEntryId.Parse(x.LastEntryId)).Max();
        if (mark != null && newest <= mark.Value)
            return mark;

        LogContext.Info?.Log("The archive of {Stream} holds entries up to {Newest}, past its mark {Mark}: the mark moves there", key, newest, mark);
        return await _marks.Advance(stream, newest).ConfigureAwait(false);
    }

    /// <summary>The entries of one segment: after the mark, below the policy's bound, at most a given number, a page at a time.</summary>
    sealed class SegmentSource
    {
        readonly IStreamAdmin _admin;
        readonly StreamEntryId? _below;
        readonly long _limit;
        readonly RedisKey _stream;
        StreamEntryId? _after;

        public SegmentSource(IStreamAdmin admin, RedisKey stream, StreamEntryId? after, StreamEntryId? below, long limit)
        {
            _admin = admin;
            _stream = stream;
            _after = after;
            _below = below;
            _limit = limit;
        }

        /// <summary>True when the segment took as many entries as it could: there may be more to archive.</summary>
        public bool Full { get; private set; }

        public async IAsyncEnumerable<StreamEntry> Entries([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            long taken = 0;
            while (taken < _limit)
            {
                cancellationToken.ThrowIfCancellationRequested();

                RedisValue min = _after is { } after ? "(" + after : "-";
                RedisValue max = _below is { } below ? "(" + below : "+";
                var count = (int)Math.Min(PageSize, _limit - taken);

                var page = await _admin.Range(_stream, min, max, count).ConfigureAwait(false);
                foreach (var entry in page)
                    yield return entry;

                taken += page.Length;
                if (page.Length > 0)
                    _after = StreamEntryId.Parse(page[^1].Id);
                if (page.Length < count)
                    yield break;
            }

            Full = true;
        }
    }
}
