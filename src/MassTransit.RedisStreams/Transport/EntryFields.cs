namespace MassTransit.RedisStreams.Transport;

using System;
using StackExchange.Redis;


/// <summary>
/// Looks up the fields of a stream entry by name, comparing the names as the bytes Redis returned. <c>StreamEntry</c>'s own
/// indexer compares with <see cref="RedisValue" /> equality, which tries to read each name as a number first: on the receive
/// path of every message that was the largest single cost of the transport's own code.
/// </summary>
static class EntryFields
{
    /// <summary>The value of the first field named <paramref name="name" />, or null.</summary>
    public static RedisValue Get(StreamEntry entry, ReadOnlySpan<byte> name)
    {
        var fields = entry.Values;
        if (fields == null)
            return RedisValue.Null;

        foreach (var field in fields)
        {
            if (NameIs(field.Name, name))
                return field.Value;
        }

        return RedisValue.Null;
    }

    /// <summary>
    /// Whether a field name is <paramref name="name" />. A name Redis returned is bytes already; one made from text (by a test, or
    /// an entry built in the process) is encoded for the comparison.
    /// </summary>
    public static bool NameIs(RedisValue fieldName, ReadOnlySpan<byte> name) => ((ReadOnlyMemory<byte>)fieldName).Span.SequenceEqual(name);
}
