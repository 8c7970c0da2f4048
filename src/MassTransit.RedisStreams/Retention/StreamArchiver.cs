namespace MassTransit.RedisStreams.Retention;

using System;
using System.Collections.Concurrent;
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
/// <item>Reconcile: the archive is the truth. A segment past the mark (<c>{stream}:archived</c>) was stored by a pass that
/// stopped before it moved the mark: the mark moves to it, and it is not written again.</item>
/// <item>Remove the entries at or below the mark that are still in the stream (a pass stopped before it trimmed): never archived again.</item>
/// <item>Work out, with the trim script's plan, what the policy removes now; read those entries after the mark, a bounded page at
/// a time, into segments: each is written to a temporary name, flushed, and put in place (renamed, or stored as an object);
/// then the mark moves to its last entry; then the stream is trimmed up to the mark.</item>
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

    /// <summary>Per stream, the mark this instance last saw agree with the archive: no need to list the archive again.</summary>
    readonly ConcurrentDictionary<string, StreamEntryId> _reconciled = new(StringComparer.Ordinal);

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
        try
        {
            var mark = await Reconcile(stream, archive, cancellationToken).ConfigureAwait(false);
            var (removed, keptFor) = await _marks.TrimArchived(stream).ConfigureAwait(false);

            var plan = await _trimming.Plan(stream, policy.MaxEntries, policy.MaxAge, countLimit).ConfigureAwait(false);
            keptFor ??= plan.KeptFor;

            // What the policy removes: the entries below an ID, or the oldest ones down to a length.
            StreamEntryId? below = plan.MinId != null ? StreamEntryId.Parse(plan.MinId) : null;
            var remaining = plan.MaxLength != null ? plan.Removed : long.MaxValue;
            if ((below == null && plan.MaxLength == null) || below == StreamEntryId.Zero)
                return (0, removed, keptFor);

            long archived = 0;
            while (remaining > 0)
            {
                var read = new SegmentSource(_admin, stream, mark, below, Math.Min(remaining, archive.SegmentEntries));
                var segment = await archive.Write(key, read.Entries(cancellationToken), cancellationToken).ConfigureAwait(false);
                if (segment == null)
                    break;

                ArchiveSteps.Reach(ArchiveSteps.Stored);

                mark = await _marks.Advance(stream, StreamEntryId.Parse(segment.LastEntryId)).ConfigureAwait(false);
                _reconciled[key] = mark.Value;
                ArchiveSteps.Reach(ArchiveSteps.Recorded);

                var (trimmed, kept) = await _marks.TrimArchived(stream).ConfigureAwait(false);
                ArchiveSteps.Reach(ArchiveSteps.Trimmed);

                removed += trimmed;
                keptFor ??= kept;
                archived += segment.Count;
                remaining -= segment.Count;

                if (!read.Full)
                    break;
            }

            return (archived, removed, keptFor);
        }
        catch
        {
            // Whatever happened, the next pass lists the archive again.
            _reconciled.TryRemove(key, out _);
            throw;
        }
    }

    /// <summary>The mark, moved forward to the newest segment in the archive if a pass stored one and stopped before moving it.</summary>
    async Task<StreamEntryId?> Reconcile(RedisKey stream, IRedisStreamsArchive archive, CancellationToken cancellationToken)
    {
        var key = stream.ToString();
        var mark = await _marks.Get(stream).ConfigureAwait(false);
        if (mark is { } known && _reconciled.TryGetValue(key, out var seen) && seen == known)
            return mark;

        var segments = await archive.GetSegments(key, cancellationToken).ConfigureAwait(false);
        if (segments.Count > 0)
        {
            var newest = segments.Select(x => StreamEntryId.Parse(x.LastEntryId)).Max();
            if (mark == null || newest > mark.Value)
            {
                LogContext.Info?.Log("The archive of {Stream} holds entries up to {Newest}, past its mark {Mark}: the mark moves there", key, newest, mark);
                mark = await _marks.Advance(stream, newest).ConfigureAwait(false);
            }
        }

        if (mark is { } reconciled)
            _reconciled[key] = reconciled;

        return mark;
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
