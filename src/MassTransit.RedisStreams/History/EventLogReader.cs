namespace MassTransit.RedisStreams.History;

using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;


/// <summary>
/// Reads the entries of several streams between two IDs as one sequence in entry ID order — the order they were appended —
/// a page of each stream at a time, so that memory stays bounded however long the streams are. With an archive, each stream
/// is its archived part (the entries up to its archive mark) followed by what Redis holds after the mark.
/// </summary>
sealed class EventLogReader
{
    public const int PageSize = 100;

    readonly IStreamAdmin _admin;
    readonly IArchiveMarks? _marks;

    public EventLogReader(IStreamAdmin admin, IArchiveMarks? marks = null)
    {
        _admin = admin;
        _marks = marks;
    }

    /// <summary>The archive read with the streams, or null for the streams alone.</summary>
    public IRedisStreamsArchive? Archive { get; set; }

    /// <summary>
    /// The entries of <paramref name="streams" /> with IDs from <paramref name="first" /> to <paramref name="last" />, both
    /// included, oldest first — or newest first with <paramref name="newestFirst" />.
    /// </summary>
    public async IAsyncEnumerable<(RedisKey Stream, StreamEntry Entry)> Read(IReadOnlyList<RedisKey> streams, StreamEntryId first,
        StreamEntryId last, bool newestFirst, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (first > last)
            yield break;

        var sources = new IAsyncEnumerator<StreamEntry>[streams.Count];
        var heads = newestFirst
            ? new PriorityQueue<int, StreamEntryId>(Comparer<StreamEntryId>.Create((x, y) => y.CompareTo(x)))
            : new PriorityQueue<int, StreamEntryId>();

        try
        {
            for (var i = 0; i < streams.Count; i++)
            {
                sources[i] = ReadOne(streams[i], first, last, newestFirst, cancellationToken).GetAsyncEnumerator(cancellationToken);
                if (await sources[i].MoveNextAsync().ConfigureAwait(false))
                    heads.Enqueue(i, StreamEntryId.Parse(sources[i].Current.Id));
            }

            while (heads.TryDequeue(out var index, out _))
            {
                cancellationToken.ThrowIfCancellationRequested();

                yield return (streams[index], sources[index].Current);

                if (await sources[index].MoveNextAsync().ConfigureAwait(false))
                    heads.Enqueue(index, StreamEntryId.Parse(sources[index].Current.Id));
            }
        }
        finally
        {
            foreach (var source in sources)
            {
                if (source != null)
                    await source.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>One stream's entries between two IDs: from its archive and from Redis, as one sequence.</summary>
    IAsyncEnumerable<StreamEntry> ReadOne(RedisKey stream, StreamEntryId first, StreamEntryId last, bool newestFirst, CancellationToken cancellationToken)
    {
        if (Archive is not { } archive || _marks == null)
            return ReadRedis(stream, first, last, newestFirst, null);

        return newestFirst
            ? ReadNewestFirst(stream, archive, _marks, first, last, cancellationToken)
            : ReadOldestFirst(stream, archive, _marks, first, last, cancellationToken);
    }

    /// <summary>
    /// Oldest first: the archive up to the mark, then Redis after it. Retention may move the mark on while the stream is read, and
    /// remove what it archived: after each page the mark is looked at again (after the read, so a mark it sees covers every entry
    /// the read missed), and what the page left out up to it is read from the archive.
    /// </summary>
    async IAsyncEnumerable<StreamEntry> ReadOldestFirst(RedisKey stream, IRedisStreamsArchive archive, IArchiveMarks marks, StreamEntryId first,
        StreamEntryId last, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Every entry at or below the floor has been returned or is before the first.
        StreamEntryId? floor = null;

        var mark = await marks.Get(stream).ConfigureAwait(false);
        if (mark is { } archived && archived >= first)
        {
            await foreach (var entry in ReadArchive(stream, archive, first, Min(last, archived), false, cancellationToken).ConfigureAwait(false))
                yield return entry;

            floor = archived;
        }

        while (floor == null || floor.Value < last)
        {
            RedisValue min = floor is { } after ? "(" + after : Bound(first);
            var page = await _admin.Range(stream, min, Bound(last), PageSize).ConfigureAwait(false);

            if (await marks.Get(stream).ConfigureAwait(false) is { } moved && (floor == null ? moved >= first : moved > floor.Value))
            {
                var from = floor is { } done ? done.Next : first;
                await foreach (var entry in ReadArchive(stream, archive, from, Min(last, moved), false, cancellationToken).ConfigureAwait(false))
                    yield return entry;

                floor = moved;
            }

            foreach (var entry in page)
            {
                var id = StreamEntryId.Parse(entry.Id);
                if (floor is { } returned && id <= returned)
                    continue;

                yield return entry;
                floor = id;
            }

            if (page.Length < PageSize)
                yield break;
        }
    }

    /// <summary>
    /// Newest first: Redis after the mark, then the archive. The mark is looked at again once Redis is read: what retention
    /// archived and removed meanwhile is read from the archive.
    /// </summary>
    async IAsyncEnumerable<StreamEntry> ReadNewestFirst(RedisKey stream, IRedisStreamsArchive archive, IArchiveMarks marks, StreamEntryId first,
        StreamEntryId last, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var mark = await marks.Get(stream).ConfigureAwait(false);

        // Every entry at or above the ceiling has been returned.
        StreamEntryId? ceiling = null;
        if (mark is not { } archived || archived < last)
        {
            var from = mark is { } m && m >= first ? m.Next : first;
            await foreach (var entry in ReadRedis(stream, from, last, true, null).ConfigureAwait(false))
            {
                ceiling = StreamEntryId.Parse(entry.Id);
                yield return entry;
            }
        }

        if (await marks.Get(stream).ConfigureAwait(false) is not { } now)
            yield break;

        var upper = Min(last, now);
        if (ceiling is { } returned && returned <= upper)
            upper = returned.Previous;

        if (upper >= first)
        {
            await foreach (var entry in ReadArchive(stream, archive, first, upper, true, cancellationToken).ConfigureAwait(false))
                yield return entry;
        }
    }

    /// <summary>The archived entries of a stream between two IDs, both included, segment by segment.</summary>
    static async IAsyncEnumerable<StreamEntry> ReadArchive(RedisKey stream, IRedisStreamsArchive archive, StreamEntryId first, StreamEntryId last,
        bool newestFirst, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (first > last)
            yield break;

        var segments = (await archive.GetSegments(stream.ToString(), cancellationToken).ConfigureAwait(false))
            .Where(x => StreamEntryId.Parse(x.LastEntryId) >= first && StreamEntryId.Parse(x.FirstEntryId) <= last);
        segments = newestFirst
            ? segments.OrderByDescending(x => StreamEntryId.Parse(x.LastEntryId))
            : segments.OrderBy(x => StreamEntryId.Parse(x.FirstEntryId));

        // Segments do not overlap, but should two (written by two instances that both thought they held the lease), each entry is
        // returned once.
        StreamEntryId? previous = null;
        foreach (var segment in segments.ToList())
        {
            await foreach (var entry in archive.Read(segment, newestFirst, cancellationToken).ConfigureAwait(false))
            {
                var id = StreamEntryId.Parse(entry.Id);
                if (id < first || id > last)
                    continue;
                if (previous is { } seen && (newestFirst ? id >= seen : id <= seen))
                    continue;

                previous = id;
                yield return entry;
            }
        }
    }

    /// <summary>The entries Redis holds between two IDs, a page at a time.</summary>
    async IAsyncEnumerable<StreamEntry> ReadRedis(RedisKey stream, StreamEntryId first, StreamEntryId last, bool newestFirst, StreamEntryId? cursor)
    {
        while (true)
        {
            // After the first page, the bound on the side read from leaves out the entry already returned.
            RedisValue min = cursor is { } after && !newestFirst ? "(" + after : Bound(first);
            RedisValue max = cursor is { } before && newestFirst ? "(" + before : Bound(last);

            var entries = await _admin.Range(stream, min, max, PageSize, newestFirst).ConfigureAwait(false);
            foreach (var entry in entries)
                yield return entry;

            if (entries.Length < PageSize)
                yield break;

            cursor = StreamEntryId.Parse(entries[^1].Id);
        }
    }

    static StreamEntryId Min(StreamEntryId x, StreamEntryId y) => x < y ? x : y;

    static RedisValue Bound(StreamEntryId id)
    {
        if (id == StreamEntryId.Zero)
            return "-";
        if (id == StreamEntryId.Max)
            return "+";

        return id.ToString();
    }
}
