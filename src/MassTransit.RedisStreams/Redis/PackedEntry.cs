namespace MassTransit.RedisStreams.Redis;

using System;
using System.Buffers.Binary;
using StackExchange.Redis;


/// <summary>
/// An entry held until it is due, packed into one hash value as a MessagePack array of strings — its flags (NOMKSTREAM, and
/// whether <c>scheduled-tokens</c> maps its token, each <c>0</c> or <c>1</c>), then the field/value pairs — which the append script unpacks with Redis's built-in <c>cmsgpack</c>, in C, instead of parsing
/// it in Lua.
/// </summary>
static class PackedEntry
{
    /// <summary>Packs the flags, then <paramref name="fields" /> (names and values, alternating).</summary>
    public static byte[] Pack(ReadOnlySpan<RedisValue> fields, bool onlyIfStreamExists, bool mapped)
    {
        var count = fields.Length + 1;
        var size = 5 + 3;
        foreach (var field in fields)
            size += 5 + (int)field.Length();

        var buffer = new byte[size];
        var position = WriteArrayHeader(buffer, count);
        ReadOnlySpan<byte> flags = [onlyIfStreamExists ? (byte)'1' : (byte)'0', mapped ? (byte)'1' : (byte)'0'];
        position += WriteString(buffer.AsSpan(position), flags);
        foreach (var field in fields)
            position += WriteString(buffer.AsSpan(position), ((byte[]?)field).AsSpan());

        return buffer.AsSpan(0, position).ToArray();
    }

    /// <summary>The field/value pairs of a packed entry (without the flags); none when there is no value.</summary>
    public static NameValueEntry[] Unpack(RedisValue data)
    {
        if (data.IsNull)
            return [];

        ReadOnlySpan<byte> bytes = (byte[])data!;
        var count = ReadArrayHeader(ref bytes);

        _ = ReadString(ref bytes);
        var fields = new NameValueEntry[(count - 1) / 2];
        for (var i = 0; i < fields.Length; i++)
            fields[i] = new NameValueEntry(ReadString(ref bytes), ReadString(ref bytes));

        return fields;
    }

    static int WriteArrayHeader(Span<byte> buffer, int count)
    {
        if (count < 16)
        {
            buffer[0] = (byte)(0x90 | count);
            return 1;
        }

        if (count <= ushort.MaxValue)
        {
            buffer[0] = 0xdc;
            BinaryPrimitives.WriteUInt16BigEndian(buffer[1..], (ushort)count);
            return 3;
        }

        buffer[0] = 0xdd;
        BinaryPrimitives.WriteUInt32BigEndian(buffer[1..], (uint)count);
        return 5;
    }

    /// <summary>A MessagePack string (fixstr, str 16 or str 32: the forms every cmsgpack reads), bytes as they are.</summary>
    static int WriteString(Span<byte> buffer, ReadOnlySpan<byte> value)
    {
        int header;
        if (value.Length < 32)
        {
            buffer[0] = (byte)(0xa0 | value.Length);
            header = 1;
        }
        else if (value.Length <= ushort.MaxValue)
        {
            buffer[0] = 0xda;
            BinaryPrimitives.WriteUInt16BigEndian(buffer[1..], (ushort)value.Length);
            header = 3;
        }
        else
        {
            buffer[0] = 0xdb;
            BinaryPrimitives.WriteUInt32BigEndian(buffer[1..], (uint)value.Length);
            header = 5;
        }

        value.CopyTo(buffer[header..]);
        return header + value.Length;
    }

    static int ReadArrayHeader(ref ReadOnlySpan<byte> bytes)
    {
        var marker = bytes[0];
        int count;
        switch (marker)
        {
            case >= 0x90 and <= 0x9f:
                count = marker & 0x0f;
                bytes = bytes[1..];
                break;
            case 0xdc:
                count = BinaryPrimitives.ReadUInt16BigEndian(bytes[1..]);
                bytes = bytes[3..];
                break;
            case 0xdd:
                count = checked((int)BinaryPrimitives.ReadUInt32BigEndian(bytes[1..]));
                bytes = bytes[5..];
                break;
            default:
                throw new FormatException($"A held entry does not start with a MessagePack array (0x{marker:x2}).");
        }

        return count;
    }

    static byte[] ReadString(ref ReadOnlySpan<byte> bytes)
    {
        var marker = bytes[0];
        int length, header;
        switch (marker)
        {
            case >= 0xa0 and <= 0xbf:
                (length, header) = (marker & 0x1f, 1);
                break;
            case 0xd9 or 0xc4:
                (length, header) = (bytes[1], 2);
                break;
            case 0xda or 0xc5:
                (length, header) = (BinaryPrimitives.ReadUInt16BigEndian(bytes[1..]), 3);
                break;
            case 0xdb or 0xc6:
                (length, header) = (checked((int)BinaryPrimitives.ReadUInt32BigEndian(bytes[1..])), 5);
                break;
            default:
                throw new FormatException($"A held entry has a value that is not a MessagePack string (0x{marker:x2}).");
        }

        var value = bytes.Slice(header, length).ToArray();
        bytes = bytes[(header + length)..];
        return value;
    }
}
