namespace MassTransit;

using System;
using System.Globalization;
using RedisStreams.Redis;


/// <summary>
/// A point in an event stream: an entry ID such as <c>1696320000000-0</c> (or just its milliseconds), a time, or either end.
/// Strings and times convert to it implicitly, so <c>from: "1696320000000-0"</c> and <c>from: DateTimeOffset.UtcNow.AddHours(-1)</c>
/// both work where a position is asked for.
/// </summary>
public readonly struct RedisStreamsPosition :
    IEquatable<RedisStreamsPosition>
{
    readonly StreamEntryId _id;
    readonly Kind _kind;

    RedisStreamsPosition(Kind kind, StreamEntryId id, DateTimeOffset? time)
    {
        _kind = kind;
        _id = id;
        Time = time;
    }

    /// <summary>Before the first entry.</summary>
    public static RedisStreamsPosition Beginning => new(Kind.Beginning, StreamEntryId.Zero, null);

    /// <summary>After the last entry.</summary>
    public static RedisStreamsPosition End => new(Kind.End, StreamEntryId.Zero, null);

    /// <summary>The entry ID, for a position made from one; otherwise null.</summary>
    public string? EntryId => _kind == Kind.Id ? _id.ToString() : null;

    /// <summary>The time, for a position made from one; otherwise null.</summary>
    public DateTimeOffset? Time { get; }

    /// <summary>A position at an entry ID, <c>ms-seq</c> or <c>ms</c>.</summary>
    /// <param name="entryId">The entry ID, e.g. <c>1696320000000-0</c>.</param>
    /// <exception cref="ArgumentException">The text is not an entry ID.</exception>
    public static RedisStreamsPosition FromId(string entryId)
    {
        ArgumentNullException.ThrowIfNull(entryId);

        if (entryId is "-" or "0")
            return Beginning;
        if (entryId is "+" or "$")
            return End;

        if (!StreamEntryId.TryParse(entryId, out var id))
        {
            throw new ArgumentException($"'{entryId}' is not a stream entry ID; expected <milliseconds>-<sequence> such as 1696320000000-0.",
                nameof(entryId));
        }

        return new RedisStreamsPosition(Kind.Id, id, null);
    }

    /// <summary>A position at a point in time: the entries appended at or after it follow it.</summary>
    public static RedisStreamsPosition FromTime(DateTimeOffset time)
    {
        var milliseconds = Math.Max(0, time.ToUnixTimeMilliseconds());
        return new RedisStreamsPosition(Kind.Time, new StreamEntryId((ulong)milliseconds, 0), time);
    }

    /// <summary>See <see cref="FromId" />.</summary>
    public static implicit operator RedisStreamsPosition(string entryId) => FromId(entryId);

    /// <summary>See <see cref="FromTime" />.</summary>
    public static implicit operator RedisStreamsPosition(DateTimeOffset time) => FromTime(time);

    /// <summary>The lowest entry ID at or after this position.</summary>
    internal StreamEntryId First => _kind switch
    {
        Kind.Beginning => StreamEntryId.Zero,
        Kind.End => StreamEntryId.Max,
        _ => _id
    };

    /// <summary>The highest entry ID at or before this position: a time includes its whole millisecond.</summary>
    internal StreamEntryId Last => _kind switch
    {
        Kind.Beginning => StreamEntryId.Zero,
        Kind.End => StreamEntryId.Max,
        Kind.Time => new StreamEntryId(_id.Milliseconds, ulong.MaxValue),
        _ => _id
    };

    /// <inheritdoc />
    public bool Equals(RedisStreamsPosition other) => _kind == other._kind && _id == other._id;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is RedisStreamsPosition other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_kind, _id);

    /// <summary>Compares two positions.</summary>
    public static bool operator ==(RedisStreamsPosition left, RedisStreamsPosition right) => left.Equals(right);

    /// <summary>Compares two positions.</summary>
    public static bool operator !=(RedisStreamsPosition left, RedisStreamsPosition right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => _kind switch
    {
        Kind.Beginning => "beginning",
        Kind.End => "end",
        Kind.Time => Time!.Value.ToString("O", CultureInfo.InvariantCulture),
        _ => _id.ToString()
    };


    enum Kind
    {
        Beginning,
        End,
        Id,
        Time
    }
}
