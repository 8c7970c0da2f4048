namespace MassTransit.RedisStreams.Redis;

using System;
using System.Buffers;
using System.IO.Hashing;
using System.Text;
using StackExchange.Redis;


/// <summary>
/// The fields of an entry about to be appended, in order, with their size. <see cref="IStreamAppends.Append" /> takes it; how
/// the append script lays out its arguments stays inside the gateway.
/// </summary>
/// <remarks>
/// A name added as text is kept as text beside what goes to Redis, so that looking fields up compares strings, never
/// <see cref="RedisValue" />s (whose equality tries to read both sides as numbers first). The well-known names go to Redis as
/// bytes encoded once (<see cref="FieldName" />).
/// </remarks>
sealed class NewEntry
{
    RedisValue[] _arguments;
    string?[] _names;
    int _length;

    /// <param name="fieldCapacity">The number of fields expected; more may be added.</param>
    public NewEntry(int fieldCapacity = 16)
    {
        _arguments = new RedisValue[fieldCapacity * 2];
        _names = new string?[fieldCapacity];
    }

    /// <summary>The number of fields.</summary>
    public int Count => _length / 2;

    /// <summary>Field names and values, alternating.</summary>
    public ReadOnlySpan<RedisValue> Fields => _arguments.AsSpan(0, _length);

    /// <summary>Field names and values together, in bytes: what <see cref="RedisStreamsTransportOptions.MaxMessageSize" /> limits.</summary>
    public long Size { get; private set; }

    /// <summary>Adds a field whose name was encoded once.</summary>
    public void Add(FieldName name, RedisValue value) => Add(name.Text, name.Bytes, value);

    /// <summary>Adds a field.</summary>
    public void Add(string name, RedisValue value) => Add(name, name, value);

    /// <summary>Adds a field whose name came from Redis (or elsewhere) as a <see cref="RedisValue" />.</summary>
    public void Add(RedisValue name, RedisValue value) => Add(null, name, value);

    void Add(string? text, RedisValue name, RedisValue value)
    {
        if (_length + 2 > _arguments.Length)
        {
            Array.Resize(ref _arguments, _arguments.Length * 2);
            Array.Resize(ref _names, _arguments.Length / 2);
        }

        _names[_length / 2] = text;
        _arguments[_length++] = name;
        _arguments[_length++] = value;
        Size += name.Length() + value.Length();
    }

    /// <summary>
    /// What the append script remembers this entry by to recognise it when it is appended again within the duplicate detection
    /// window: the MessageId's 16 bytes and an 8-byte hash of the fields that tell sends of one message apart (see
    /// <see cref="SetDuplicateKey" />). Null when the entry is not checked.
    /// </summary>
    public RedisValue DuplicateKey { get; private set; }

    /// <summary>
    /// Which of the fields that make a message with the same MessageId another message a field is, or -1: its body, its message
    /// types, the redelivery count MassTransit's redelivery sets, and the fire time a recurring Quartz schedule sets. Not the
    /// headers that differ between attempts to send one message (ConversationId when the application sends it again, the
    /// writer's host record, trace context). The number seeds the field's hash, so it never changes.
    /// </summary>
    static int DistinguishingField(string name) => name switch
    {
        Transport.EntryFieldNames.Body => 0,
        MessageHeaders.MessageType => 1,
        MessageHeaders.RedeliveryCount => 2,
        MessageHeaders.Quartz.Scheduled => 3,
        _ => -1
    };

    /// <summary>
    /// Sets <see cref="DuplicateKey" /> from <paramref name="messageId" /> and the fields added so far (call it after the last):
    /// the same message sent again has the same key; a redelivery, or another fire of a recurring schedule, has another.
    /// </summary>
    public void SetDuplicateKey(Guid messageId)
    {
        ulong hash = 0;
        byte[]? rented = null;
        Span<byte> buffer = stackalloc byte[512];
        try
        {
            for (var i = 0; i < _length; i += 2)
            {
                var field = DistinguishingField(NameAt(i));
                if (field < 0)
                    continue;

                var value = _arguments[i + 1];
                var count = value.GetByteCount();
                if (count > buffer.Length)
                {
                    if (rented != null)
                        ArrayPool<byte>.Shared.Return(rented);
                    rented = ArrayPool<byte>.Shared.Rent(count);
                    buffer = rented;
                }

                // Each value is hashed with a seed of the hash so far and which field it is: a value in one field never hashes
                // like the same value in another, and ("ab", "c") unlike ("a", "bc").
                var written = value.CopyTo(buffer);
                hash = XxHash3.HashToUInt64(buffer[..written], unchecked((long)(hash ^ ((ulong)(field + 1) * 0x9E3779B97F4A7C15UL))));
            }
        }
        finally
        {
            if (rented != null)
                ArrayPool<byte>.Shared.Return(rented);
        }

        var key = new byte[24];
        messageId.TryWriteBytes(key);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(key.AsSpan(16), hash);
        DuplicateKey = key;
    }

    /// <summary>Adds every field of <paramref name="fields" />.</summary>
    public void AddRange(NameValueEntry[] fields)
    {
        foreach (var field in fields)
            Add(field.Name, field.Value);
    }

    /// <summary>The value of the first field named <paramref name="name" />, or null.</summary>
    public RedisValue Get(string name)
    {
        for (var i = 0; i < _length; i += 2)
        {
            if (NameAt(i) == name)
                return _arguments[i + 1];
        }

        return RedisValue.Null;
    }

    /// <summary>True when a field named <paramref name="name" /> has been added.</summary>
    public bool Contains(string name)
    {
        for (var i = 0; i < _length; i += 2)
        {
            if (NameAt(i) == name)
                return true;
        }

        return false;
    }

    /// <summary>The name of the field at argument <paramref name="index" /> as text; decoded (and kept) when it was added as a value.</summary>
    string NameAt(int index) => _names[index / 2] ??= (string?)_arguments[index] ?? "";

    /// <summary>Copies the field names and values to <paramref name="target" /> from <paramref name="index" />; returns the index after.</summary>
    internal int CopyFieldsTo(RedisValue[] target, int index)
    {
        Array.Copy(_arguments, 0, target, index, _length);
        return index + _length;
    }
}


/// <summary>A field name as text and as the UTF-8 bytes that go to Redis, encoded once.</summary>
sealed class FieldName
{
    public FieldName(string text)
    {
        Text = text;
        Bytes = Encoding.UTF8.GetBytes(text);
    }

    public string Text { get; }

    public RedisValue Bytes { get; }

    public override string ToString() => Text;
}
