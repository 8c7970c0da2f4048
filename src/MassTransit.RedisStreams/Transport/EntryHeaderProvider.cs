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
    readonly StreamEntry _entry;

    public EntryHeaderProvider(StreamEntry entry)
    {
        _entry = entry;
    }

    public IEnumerable<KeyValuePair<string, object>> GetAll()
    {
        yield return new KeyValuePair<string, object>(MessageHeaders.TransportMessageId, (string)_entry.Id!);

        foreach (var field in _entry.Values)
        {
            var name = (string?)field.Name;
            if (name == null || name == EntryWriter.BodyField || field.Value.IsNull)
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

        if (key != EntryWriter.BodyField)
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
