namespace MassTransit.RedisStreams.Operations;

using System;
using System.Collections.Generic;
using System.Linq;
using Redis;


/// <summary>
/// Which entries of a stream an operation takes: given IDs, a window of IDs or times, a message type, an exception type, and a
/// limit. Every criterion given must hold; none given takes every entry, oldest first.
/// </summary>
sealed record EntrySelection
{
    public static readonly EntrySelection All = new();

    /// <summary>Only these entries; every entry when empty.</summary>
    public IReadOnlyList<StreamEntryId> Ids
    {
        get;
        init
        {
            field = value;
            _idSet = value.ToHashSet();
        }
    } = [];

    HashSet<StreamEntryId> _idSet = [];

    /// <summary>The lowest ID taken.</summary>
    public StreamEntryId First { get; init; } = StreamEntryId.Zero;

    /// <summary>The highest ID taken.</summary>
    public StreamEntryId Last { get; init; } = StreamEntryId.Max;

    /// <summary>
    /// Only messages one of whose type URNs contains this, ignoring case: a name (<c>AuctionEnded</c>), a namespace and name
    /// (<c>AuctionHouse:AuctionEnded</c>) or a whole URN.
    /// </summary>
    public string? MessageType { get; init; }

    /// <summary>Only entries whose <c>MT-Fault-ExceptionType</c> is this, whole or without its namespace, ignoring case.</summary>
    public string? ExceptionType { get; init; }

    /// <summary>At most this many entries.</summary>
    public long? Limit { get; init; }

    /// <summary>True when the selection takes every entry there is.</summary>
    public bool IsEverything => Ids.Count == 0 && First == StreamEntryId.Zero && Last == StreamEntryId.Max && MessageType == null
        && ExceptionType == null && Limit == null;

    /// <summary>The window between the later of two lower bounds and the earlier of two upper bounds, each optional.</summary>
    public static (StreamEntryId First, StreamEntryId Last) Window(RedisStreamsPosition? from, RedisStreamsPosition? to, RedisStreamsPosition? since = null,
        RedisStreamsPosition? until = null)
    {
        var first = new[] { from?.First, since?.First }.OfType<StreamEntryId>().DefaultIfEmpty(StreamEntryId.Zero).Max();
        var last = new[] { to?.Last, until?.Last }.OfType<StreamEntryId>().DefaultIfEmpty(StreamEntryId.Max).Min();

        return (first, last);
    }

    /// <summary>True when the entry meets the criteria other than the limit.</summary>
    public bool Matches(StoredEntry entry)
    {
        if (entry.Id < First || entry.Id > Last)
            return false;
        if (Ids.Count > 0 && !_idSet.Contains(entry.Id))
            return false;
        if (MessageType != null && !entry.MessageTypes.Any(x => x.Contains(MessageType, StringComparison.OrdinalIgnoreCase)))
            return false;

        return ExceptionType == null || entry.ExceptionType is { } type
            && (type.Equals(ExceptionType, StringComparison.OrdinalIgnoreCase)
                || type.EndsWith("." + ExceptionType, StringComparison.OrdinalIgnoreCase)
                || type.EndsWith("+" + ExceptionType, StringComparison.OrdinalIgnoreCase));
    }
}
