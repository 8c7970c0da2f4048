namespace MassTransit.RedisStreams.Transport;

using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using StackExchange.Redis;
using Transports;


/// <summary>
/// The fields of a stream entry, except its body, as transport headers; the entry ID is the transport message ID. For an entry
/// that names a host record (<c>MT-Host</c>), <c>MT-Host-Info</c> and — when the entry has none — <c>MT-Source-Address</c> are
/// read from the record, only when asked for.
/// </summary>
sealed class EntryHeaderProvider :
    IHeaderProvider
{
    readonly RedisValue _bodyField;
    readonly StreamEntry _entry;
    readonly HostRecords? _hosts;

    public EntryHeaderProvider(StreamEntry entry, RedisValue bodyField, HostRecords? hosts)
    {
        _entry = entry;
        _bodyField = bodyField;
        _hosts = hosts;
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

            if (key is MessageHeaders.Host.Info or MessageHeaders.SourceAddress && FindHost() is { } host)
            {
                value = key == MessageHeaders.Host.Info ? host.Host : host.Address;
                return value != null;
            }
        }

        value = null;
        return false;
    }

    HostRecord? FindHost()
    {
        var id = _entry[EntryFieldNames.Host];

        return id.IsNullOrEmpty || _hosts == null ? null : _hosts.Find(id!);
    }
}
