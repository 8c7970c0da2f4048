namespace MassTransit.RedisStreams.Redis;

using System;
using System.Buffers.Text;
using System.Globalization;
using StackExchange.Redis;


/// <summary>
/// A stream entry ID, <c>ms-seq</c>: the append time in Unix milliseconds and a sequence number within it. IDs the append
/// script gives out are unique and increasing across every stream of one Redis, so comparing them orders appends.
/// </summary>
readonly record struct StreamEntryId(ulong Milliseconds, ulong Sequence) :
    IComparable<StreamEntryId>
{
    public static readonly StreamEntryId Zero = new(0, 0);
    public static readonly StreamEntryId Max = new(ulong.MaxValue, ulong.MaxValue);

    /// <summary>A time as the lowest ID of its millisecond.</summary>
    public static StreamEntryId FromTime(DateTimeOffset time) => new((ulong)Math.Max(0, time.ToUnixTimeMilliseconds()), 0);

    /// <summary>The next possible ID after this one.</summary>
    public StreamEntryId Next => Sequence == ulong.MaxValue ? new StreamEntryId(Milliseconds + 1, 0) : new StreamEntryId(Milliseconds, Sequence + 1);

    /// <summary>The possible ID before this one; <see cref="Zero" /> stays zero.</summary>
    public StreamEntryId Previous => Sequence > 0 ? new StreamEntryId(Milliseconds, Sequence - 1)
        : Milliseconds > 0 ? new StreamEntryId(Milliseconds - 1, ulong.MaxValue) : Zero;

    public DateTimeOffset Timestamp => DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Min(Milliseconds, (ulong)long.MaxValue));

    public int CompareTo(StreamEntryId other)
    {
        var byTime = Milliseconds.CompareTo(other.Milliseconds);
        return byTime != 0 ? byTime : Sequence.CompareTo(other.Sequence);
    }

    public static bool operator <(StreamEntryId left, StreamEntryId right) => left.CompareTo(right) < 0;
    public static bool operator >(StreamEntryId left, StreamEntryId right) => left.CompareTo(right) > 0;
    public static bool operator <=(StreamEntryId left, StreamEntryId right) => left.CompareTo(right) <= 0;
    public static bool operator >=(StreamEntryId left, StreamEntryId right) => left.CompareTo(right) >= 0;

    /// <summary>Reads <c>ms-seq</c> or <c>ms</c> (sequence 0).</summary>
    public static bool TryParse(RedisValue value, out StreamEntryId id)
    {
        id = default;
        if (value.IsNullOrEmpty)
            return false;

        var span = ((ReadOnlyMemory<byte>)value).Span;
        if (!Utf8Parser.TryParse(span, out ulong milliseconds, out var consumed))
            return false;

        if (consumed == span.Length)
        {
            id = new StreamEntryId(milliseconds, 0);
            return true;
        }

        if (span[consumed] != (byte)'-' || !Utf8Parser.TryParse(span[(consumed + 1)..], out ulong sequence, out var rest)
            || consumed + 1 + rest != span.Length)
            return false;

        id = new StreamEntryId(milliseconds, sequence);
        return true;
    }

    public static StreamEntryId Parse(RedisValue value)
    {
        return TryParse(value, out var id) ? id : throw new FormatException($"'{value}' is not a stream entry ID (ms-seq).");
    }

    public override string ToString() => Milliseconds.ToString(CultureInfo.InvariantCulture) + "-" + Sequence.ToString(CultureInfo.InvariantCulture);
}
