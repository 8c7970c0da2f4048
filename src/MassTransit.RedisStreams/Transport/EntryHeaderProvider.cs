namespace MassTransit.RedisStreams.Transport;

using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using StackExchange.Redis;
using Transports;


/// <summary>
/// The fields of a stream entry, except its body, as transport headers; the entry ID is the transport message ID.
/// </summary>
sealed class EntryHeaderProvider :
    IHeaderProvider
{
    readonly RedisValue _bodyField;
    readonly StreamEntry _entry;

    public EntryHeaderProvider(StreamEntry entry, RedisValue bodyField)
    {
        _entry = entry;
        _bodyField = bodyField;
    }

    public IEnumerable<KeyValuePair<string, object>> GetAll()
    {
        yield return new KeyValuePair<string, object>(MessageHeaders.TransportMessageId, (string)_entry.Id!);

        foreach (var field in _entry.Values)
        {
            var name = (string?)field.Name;
            if (name == null || field.Name == _bodyField || field.Value.IsNull)
                continue;

            yield return new KeyValuePair<string, object>(name, (string)field.Value!);
        }
    }

    public bool TryGetHeader(string key, [NotNullWhen(true)] out object? value)
    {
        if (key == MessageHeaders.TransportMessageId)
        {
            value = (string)_entry.Id!;
            return true;
        }

        if (key != _bodyField)
        {
            foreach (var field in _entry.Values)
            {
                if (field.Name == key && !field.Value.IsNull)
                {
                    value = (string)field.Value!;
                    return true;
                }
            }
        }

        value = null;
        return false;
    }
}
