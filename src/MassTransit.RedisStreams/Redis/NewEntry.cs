namespace MassTransit.RedisStreams.Redis;

using System;
using StackExchange.Redis;


/// <summary>
/// The fields of an entry about to be appended, in order, with their size. <see cref="RedisStreamsClient.Append" /> takes it;
/// how the append script lays out its arguments stays inside the gateway.
/// </summary>
sealed class NewEntry
{
    RedisValue[] _arguments;
    int _length;

    /// <param name="fieldCapacity">The number of fields expected; more may be added.</param>
    public NewEntry(int fieldCapacity = 16)
    {
        _arguments = new RedisValue[RedisStreamsClient.AppendReservedArguments + fieldCapacity * 2];
        _length = RedisStreamsClient.AppendReservedArguments;
    }

    /// <summary>The number of fields.</summary>
    public int Count => (_length - RedisStreamsClient.AppendReservedArguments) / 2;

    /// <summary>Field names and values together, in bytes: what <see cref="RedisStreamsTransportOptions.MaxMessageSize" /> limits.</summary>
    public long Size { get; private set; }

    public void Add(RedisValue name, RedisValue value)
    {
        if (_length + 2 > _arguments.Length)
            Array.Resize(ref _arguments, _arguments.Length * 2);

        _arguments[_length++] = name;
        _arguments[_length++] = value;
        Size += name.Length() + value.Length();
    }

    /// <summary>Adds every field of <paramref name="fields" />.</summary>
    public void AddRange(NameValueEntry[] fields)
    {
        foreach (var field in fields)
            Add(field.Name, field.Value);
    }

    /// <summary>True when a field named <paramref name="name" /> has been added.</summary>
    public bool Contains(RedisValue name)
    {
        for (var i = RedisStreamsClient.AppendReservedArguments; i < _length; i += 2)
        {
            if (_arguments[i] == name)
                return true;
        }

        return false;
    }

    /// <summary>Copies the field names and values to <paramref name="target" /> from <paramref name="index" />; returns the index after.</summary>
    internal int CopyFieldsTo(RedisValue[] target, int index)
    {
        var count = _length - RedisStreamsClient.AppendReservedArguments;
        Array.Copy(_arguments, RedisStreamsClient.AppendReservedArguments, target, index, count);
        return index + count;
    }

    /// <summary>The script arguments: the reserved leading ones, filled in by the gateway, then the fields.</summary>
    internal RedisValue[] GetArguments()
    {
        if (_length != _arguments.Length)
            Array.Resize(ref _arguments, _length);

        return _arguments;
    }
}
