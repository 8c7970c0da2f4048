namespace MassTransit.RedisStreams.Operations;

using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using Redis;
using StackExchange.Redis;


/// <summary>Reads the entries of a selection from a stream, oldest first, a page at a time: bounded memory at any length.</summary>
sealed class EntryReader
{
    const int PageSize = 200;

    readonly IStreamAdmin _admin;

    public EntryReader(IStreamAdmin admin)
    {
        _admin = admin;
    }

    /// <summary>The selected entries, oldest first. Entries removed while it reads are not seen; the limit counts what it yields.</summary>
    public async IAsyncEnumerable<StoredEntry> Read(RedisKey stream, EntrySelection selection, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long taken = 0;

        // A few IDs are read one by one; many (a plan being carried out) by reading the range they span.
        if (selection.Ids.Count is > 0 and <= 50)
        {
            foreach (var id in selection.Ids.Distinct().Order())
            {
                cancellationToken.ThrowIfCancellationRequested();

                var found = await _admin.Range(stream, id.ToString(), id.ToString(), 1).ConfigureAwait(false);
                if (found.Length == 0)
                    continue;

                var entry = StoredEntry.Decode(found[0]);
                if (!selection.Matches(entry))
                    continue;

                yield return entry;
                if (++taken == selection.Limit)
                    yield break;
            }

            yield break;
        }

        var (first, lastId) = selection.Ids.Count > 0
            ? (Max(selection.First, selection.Ids.Min()), Min(selection.Last, selection.Ids.Max()))
            : (selection.First, selection.Last);

        RedisValue start = first.ToString();
        RedisValue last = lastId == StreamEntryId.Max ? "+" : lastId.ToString();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();

            var page = await _admin.Range(stream, start, last, PageSize).ConfigureAwait(false);
            foreach (var found in page)
            {
                var entry = StoredEntry.Decode(found);
                if (!selection.Matches(entry))
                    continue;

                yield return entry;
                if (++taken == selection.Limit)
                    yield break;
            }

            if (page.Length < PageSize)
                yield break;

            start = "(" + (string?)page[^1].Id;
        }
    }

    static StreamEntryId Max(StreamEntryId a, StreamEntryId b) => a > b ? a : b;

    static StreamEntryId Min(StreamEntryId a, StreamEntryId b) => a < b ? a : b;
}
