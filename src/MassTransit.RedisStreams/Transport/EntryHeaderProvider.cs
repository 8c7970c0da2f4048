namespace MassTransit.RedisStreams.Transport;

using System;
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
    readonly string _bodyField;
    readonly StreamEntry _entry;
    readonly HostRecords? _hosts;
    string?[]? _values;

    public EntryHeaderProvider(StreamEntry entry, string bodyField, HostRecords? hosts)
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
            if (field.Value.IsNull || NameEquals(field.Name, _bodyField))
                continue;

            var name = (string?)field.Name;
            if (name == null)
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

        if (!string.Equals(key, _bodyField, StringComparison.Ordinal))
        {
            var fields = _entry.Values;
            for (var i = 0; i < fields.Length; i++)
            {
                if (NameEquals(fields[i].Name, key) && !fields[i].Value.IsNull)
                {
                    // MassTransit asks for some headers more than once; each value is decoded once.
                    _values ??= new string?[fields.Length];
                    value = _values[i] ??= (string)fields[i].Value!;
                    return true;
                }
            }

            // A trace context written by a client other than MassTransit, under OpenTelemetry's name.
            if (key == Logging.DiagnosticHeaders.ActivityId)
                return TryGetHeader(TraceLinks.TraceParent, out value);

            if (key is MessageHeaders.Host.Info or MessageHeaders.SourceAddress && FindHost() is { } host)
            {
                value = key == MessageHeaders.Host.Info ? host.Host : host.Address;
                return value != null;
            }
        }

        value = null;
        return false;
    }

    /// <summary>Compares a field name as Redis returned it (bytes) with a header name, without decoding it.</summary>
    static bool NameEquals(RedisValue name, string key)
    {
        var bytes = ((ReadOnlyMemory<byte>)name).Span;
        if (bytes.Length != key.Length)
        {
            // An ASCII name of another length cannot match; a non-ASCII one is compared the slow way.
            foreach (var c in key)
            {
                if (c > 0x7F)
                    return name == key;
            }

            return false;
        }

        for (var i = 0; i < bytes.Length; i++)
        {
            // Header names are ASCII; anything else is compared the slow way.
            if (key[i] > 0x7F || bytes[i] > 0x7F)
                return name == key;

            if (bytes[i] != key[i])
                return false;
        }

        return true;
    }

    HostRecord? FindHost()
    {
        if (_hosts == null)
            return null;

        var id = EntryFields.Get(_entry, EntryFieldNames.HostBytes);
        return id.IsNullOrEmpty ? null : _hosts.Find(id!);
    }
}
