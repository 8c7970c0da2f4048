namespace MassTransit.RedisStreams.History;

using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;


/// <summary>
/// Reads the entries of several streams between two IDs as one sequence in entry ID order — the order they were appended —
/// a page of each stream at a time, so that memory stays bounded however long the streams are.
/// </summary>
sealed class EventLogReader
{
    public const int PageSize = 100;

    readonly IStreamAdmin _admin;

    public EventLogReader(IStreamAdmin admin)
    {
        _admin = admin;
    }

    /// <summary>
    /// The entries of <paramref name="streams" /> with IDs from <paramref name="first" /> to <paramref name="last" />, both
    /// included, oldest first — or newest first with <paramref name="newestFirst" />.
    /// </summary>
    public async IAsyncEnumerable<(RedisKey Stream, StreamEntry Entry)> Read(IReadOnlyList<RedisKey> streams, StreamEntryId first,
        StreamEntryId last, bool newestFirst, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (first > last)
            yield break;

        var pages = new Queue<StreamEntry>[streams.Count];
        var cursors = new StreamEntryId?[streams.Count];
        var exhausted = new bool[streams.Count];
        var heads = newestFirst
            ? new PriorityQueue<int, StreamEntryId>(Comparer<StreamEntryId>.Create((x, y) => y.CompareTo(x)))
            : new PriorityQueue<int, StreamEntryId>();

        for (var i = 0; i < streams.Count; i++)
        {
            pages[i] = new Queue<StreamEntry>();
            await Fill(i).ConfigureAwait(false);
        }

        while (heads.TryDequeue(out var index, out _))
        {
            cancellationToken.ThrowIfCancellationRequested();

            yield return (streams[index], pages[index].Dequeue());

            if (pages[index].Count == 0)
                await Fill(index).ConfigureAwait(false);
            else
                heads.Enqueue(index, StreamEntryId.Parse(pages[index].Peek().Id));
        }

        async Task Fill(int index)
        {
            if (exhausted[index])
                return;

            // After the first page, the bound on the side read from leaves out the entry already returned.
            RedisValue min = cursors[index] is { } cursor && !newestFirst ? "(" + cursor : Bound(first);
            RedisValue max = cursors[index] is { } back && newestFirst ? "(" + back : Bound(last);

            var entries = await _admin.Range(streams[index], min, max, PageSize, newestFirst).ConfigureAwait(false);

            exhausted[index] = entries.Length < PageSize;
            if (entries.Length == 0)
                return;

            cursors[index] = StreamEntryId.Parse(entries[^1].Id);
            foreach (var entry in entries)
                pages[index].Enqueue(entry);

            heads.Enqueue(index, StreamEntryId.Parse(entries[0].Id));
        }
    }

    static RedisValue Bound(StreamEntryId id)
    {
        if (id == StreamEntryId.Zero)
            return "-";
        if (id == StreamEntryId.Max)
            return "+";

        return id.ToString();
    }
}
