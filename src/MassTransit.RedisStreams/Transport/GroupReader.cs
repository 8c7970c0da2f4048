namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;


/// <summary>
/// Reads an endpoint's new entries through its consumer group and hands them to the workers oldest first across all the
/// endpoint's streams, so that the endpoint receives them in the order they were appended.
/// </summary>
/// <remarks>
/// <para>
/// Entry IDs order appends across streams (the append script takes them from one clock), so the order to deliver in is
/// simply ID order. What a reader cannot see is an older entry still unread in another stream. Each round reads every stream,
/// at one instant or one after the other in stream order (<see cref="IGroupReads.ReadNew" />), and after it the
/// reader knows, for each stream, that every entry still unread is newer than <see cref="ReceiveStream.UnreadAfter" />: the
/// last entry read, when the stream returned all it was asked for; or, when it returned less, the newest entry read from the
/// streams read no later than it, since whatever is appended later gets a higher ID. An entry is handed on once its ID is at
/// most the lowest of these bounds; a newer one is held back in the <see cref="EntryBuffer" />, still counted against the
/// prefetch limit, until the streams before it have been read further.
/// </para>
/// <para>
/// Each round reads every stream, at least one entry of each (the read loop waits until there is that much room, or reads
/// past the limit when nothing else would free it), and shares the rest between the streams that had more than they were
/// asked for, the stream that holds the others back first; when all were empty it shares the capacity evenly, so that an
/// idle poll is a single XREADGROUP.
/// </para>
/// <para>
/// On a Redis Cluster each stream takes its IDs from its own clock, so IDs order the appends of one stream only: the reader
/// hands on what it read at once, and the endpoint receives each stream's entries in order, but not entries of different
/// streams in the order they were appended.
/// </para>
/// </remarks>
sealed class GroupReader
{
    readonly EntryBuffer _buffer;
    readonly IGroupReads _groups;
    readonly LeaseStanding _standing;
    readonly IEndpointStreams _streams;
    readonly Func<string> _consumer;
    RedisKey[] _keys = [];
    ReceiveStream[] _keysOf = [];
    StreamEntryId _newestRead;
    int _rotation;

    public GroupReader(IGroupReads groups, IEndpointStreams streams, EntryBuffer buffer, LeaseStanding standing, Func<string> consumer)
    {
        _groups = groups;
        _streams = streams;
        _buffer = buffer;
        _standing = standing;
        _consumer = consumer;
    }

    /// <summary>
    /// Reads up to <paramref name="capacity" /> new entries and hands on those that are next in append order. With
    /// <paramref name="armWake" />, the streams' wake flags are set for that long in the same step.
    /// </summary>
    public async Task<ReadResult> ReadNew(int capacity, TimeSpan? armWake)
    {
        var streams = Streams();
        var counts = Plan(streams, capacity, _rotation++ & int.MaxValue);
        var epoch = _standing.Epoch;

        Diagnostics.LatencyTrace.Mark(Diagnostics.LatencyStage.ReadSent);
        var round = await _groups.ReadNew(_keys, counts, _streams.Group, _consumer(), armWake).ConfigureAwait(false);
        Diagnostics.LatencyTrace.Mark(Diagnostics.LatencyStage.ReadReplied);

        return Take(streams, counts, round, epoch);
    }

    /// <summary>
    /// Once a round found every stream empty: reads as that round would, the same count of each stream in one command, but on
    /// the endpoint's own connection, where Redis holds the read up to <paramref name="block" /> until an entry arrives (see
    /// <see cref="BlockingReader" />). Ends early, with nothing read, when <paramref name="interrupt" /> is canceled.
    /// </summary>
    public async Task<ReadResult> ReadBlocking(BlockingReader reader, int capacity, TimeSpan block, CancellationToken interrupt)
    {
        var streams = Streams();
        var counts = new int[streams.Length];
        Array.Fill(counts, Math.Max(1, capacity / Math.Max(1, streams.Length)));
        var epoch = _standing.Epoch;

        var round = await reader.Read(_keys, counts.Length == 0 ? 1 : counts[0], _streams.Group, _consumer(), block, interrupt).ConfigureAwait(false);
        Diagnostics.LatencyTrace.Mark(Diagnostics.LatencyStage.ReadReplied);

        return Take(streams, counts, round, epoch);
    }

    /// <summary>The streams to read now, with their keys.</summary>
    ReceiveStream[] Streams()
    {
        var streams = _streams.Streams;
        if (!ReferenceEquals(streams, _keysOf))
        {
            _keys = Array.ConvertAll(streams, x => x.Key);
            _keysOf = streams;
        }

        return streams;
    }

    /// <summary>Holds what a round read, and hands on the entries that are next in append order.</summary>
    ReadResult Take(ReceiveStream[] streams, int[] counts, ReadRound round, int epoch)
    {
        var (results, atomic, ordered) = round;

        // Where each stream stands: every entry still unread in a stream that returned all it was asked for is newer than the
        // last one read from it. In a stream that returned less, it is newer than every entry read before that stream's read
        // ran: from any stream, when the streams were read at one instant; from it and the streams read before it otherwise.
        var read = 0;
        var newestBefore = new StreamEntryId[streams.Length];
        for (var i = 0; i < streams.Length; i++)
        {
            foreach (var entry in results[i])
            {
                var id = StreamEntryId.Parse(entry.Id);
                if (id > _newestRead)
                    _newestRead = id;

                streams[i].LastReadId = entry.Id;
                if (_buffer.Hold(streams[i], entry, 1, epoch) is { } delivery)
                    _buffer.HoldBack(delivery, id);

                read++;
            }

            newestBefore[i] = _newestRead;
        }

        var drained = true;
        for (var i = 0; i < streams.Length; i++)
        {
            if (counts[i] == 0)
            {
                drained = false;
                continue;
            }

            var stream = streams[i];
            stream.Drained = results[i].Length < counts[i];

            // On a Redis Cluster, IDs of different streams do not order appends: nothing is held back for another stream.
            stream.UnreadAfter = !ordered ? StreamEntryId.Max
                : stream.Drained ? atomic ? _newestRead : newestBefore[i] : StreamEntryId.Parse(results[i][^1].Id);
            drained &= stream.Drained;
        }

        _buffer.ReleaseThrough(Frontier(streams));

        return new ReadResult(read, drained);
    }

    /// <summary>
    /// Forgets what is known of the streams, and the entries held back: after a failure the endpoint reads its own pending
    /// entries again, these among them, in order.
    /// </summary>
    public void Reset()
    {
        _buffer.ForgetHeldBack();

        foreach (var stream in _streams.Streams)
        {
            stream.UnreadAfter = StreamEntryId.Zero;
            stream.Drained = false;
        }
    }

    /// <summary>The lowest bound of all streams: no unread entry of any stream can precede an entry at or below it.</summary>
    static StreamEntryId Frontier(ReceiveStream[] streams)
    {
        var frontier = streams.Length == 0 ? StreamEntryId.Zero : streams[0].UnreadAfter;
        foreach (var stream in streams)
        {
            if (stream.UnreadAfter < frontier)
                frontier = stream.UnreadAfter;
        }

        return frontier;
    }

    /// <summary>How many entries to ask of each stream in a round; see the remarks on the class.</summary>
    internal static int[] Plan(ReceiveStream[] streams, int capacity, int rotation)
    {
        var n = streams.Length;
        var counts = new int[n];
        if (n == 0 || capacity <= 0)
            return counts;

        // The stream that holds the others back: the lowest bound; on a tie, one that had more (an empty one would only be found
        // empty again), and among those the next in turn, so that a partial round does not read the same stream every time.
        var frontier = rotation % n;
        var anyPending = false;
        for (var k = 0; k < n; k++)
        {
            var i = (rotation + k) % n;
            var bound = streams[i].UnreadAfter;
            if (bound < streams[frontier].UnreadAfter || bound == streams[frontier].UnreadAfter && streams[frontier].Drained && !streams[i].Drained)
                frontier = i;
            anyPending |= !streams[i].Drained;
        }

        if (!anyPending && capacity >= n)
        {
            // Everything was empty: the same count for every stream, so that the read is one command.
            Array.Fill(counts, capacity / n);
            return counts;
        }

        // The stream that holds the others back first, then the others that had more, then the empty ones, in turn.
        var order = new List<int>(n) { frontier };
        for (var pass = 0; pass < 2; pass++)
        {
            for (var k = 0; k < n; k++)
            {
                var i = (rotation + k) % n;
                if (i != frontier && streams[i].Drained == (pass == 1))
                    order.Add(i);
            }
        }

        var left = capacity;
        foreach (var i in order)
        {
            if (left == 0)
                break;

            counts[i] = 1;
            left--;
        }

        var sharers = 0;
        foreach (var i in order)
        {
            if (!streams[i].Drained)
                sharers++;
        }

        if (sharers == 0)
            return counts;

        var share = left / sharers;
        var remainder = left % sharers;
        foreach (var i in order)
        {
            if (streams[i].Drained)
                continue;

            counts[i] += share + (remainder-- > 0 ? 1 : 0);
        }

        return counts;
    }
}


/// <summary>What a read round found: how many entries, and whether every stream was read and had nothing more.</summary>
readonly record struct ReadResult(int Read, bool Drained);
