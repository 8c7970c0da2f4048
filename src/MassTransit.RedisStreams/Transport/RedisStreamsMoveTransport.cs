namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Redis;
using MassTransit.Serialization;
using StackExchange.Redis;
using Transports;


/// <summary>
/// Moves a received entry to another stream of the same endpoint (<c>_error</c>, <c>_skipped</c>): the entry's fields are
/// copied as they are, with headers saying why and where from added. Its expiration time moves to
/// <c>MT-Redis-Expiration-Time</c>: the message still says when it was to expire, but a message set aside does not expire. The
/// caller acknowledges the original only after this returns.
/// </summary>
abstract class RedisStreamsMoveTransport
{
    /// <summary>Where and by what the entry was moved, as MassTransit's other transports record it.</summary>
    static readonly KeyValuePair<string, object>[] HostHeaders = CreateHostHeaders();

    readonly RedisStreamsBusContext _bus;
    readonly RedisKey _destination;
    readonly string _endpoint;
    readonly string _target;

    /// <param name="bus">The bus.</param>
    /// <param name="destination">The stream entries are moved to.</param>
    /// <param name="endpoint">The endpoint whose entries are moved, for the metrics.</param>
    /// <param name="target">What the destination is to the endpoint, <c>error</c> or <c>skipped</c>, for the metrics.</param>
    protected RedisStreamsMoveTransport(RedisStreamsBusContext bus, RedisKey destination, string endpoint, string target)
    {
        _bus = bus;
        _destination = destination;
        _endpoint = endpoint;
        _target = target;
    }

    protected Task Move(ReceiveContext context, IEnumerable<KeyValuePair<string, object>> addedHeaders)
    {
        // The error filter hands over a proxy of the receive context; the payload lookup reaches the original entry.
        if (context.TryGetPayload<RedisStreamsReceiveContext>(out var redisContext))
        {
            return Move(redisContext.Entry, addedHeaders.Concat(
            [
                new KeyValuePair<string, object>(EntryFieldNames.SourceStream, redisContext.StreamKey),
                new KeyValuePair<string, object>(EntryFieldNames.SourceEntry, redisContext.EntryId)
            ]));
        }

        var fields = new List<NameValueEntry> { new(EntryFieldNames.Body, context.GetBody()) };
        foreach (var header in context.TransportHeaders.GetAll())
            fields.Add(new NameValueEntry(header.Key, EntryWriter.FormatHeaderValue(header.Value)));

        return Append(fields, addedHeaders);
    }

    /// <summary>Moves an entry that was never handed to MassTransit (one that could not be, or was delivered too often).</summary>
    public Task Move(StreamEntry entry, IEnumerable<KeyValuePair<string, object>> addedHeaders)
    {
        return Append(entry.Values, addedHeaders);
    }

    async Task Append(IEnumerable<NameValueEntry> original, IEnumerable<KeyValuePair<string, object>> addedHeaders)
    {
        var entry = new NewEntry(24);
        var replaced = new HashSet<string>(StringComparer.Ordinal);
        string? reason = null;

        foreach (var header in addedHeaders.Concat(HostHeaders))
        {
            var value = EntryWriter.FormatHeaderValue(header.Value);
            if (!value.IsNull && replaced.Add(header.Key))
            {
                entry.Add(header.Key, value);
                if (header.Key == MessageHeaders.Reason)
                    reason = value;
            }
        }

        foreach (var field in original)
        {
            // A message set aside is kept until someone deals with it: it does not expire there.
            var name = (string?)field.Name ?? "";
            if (name == EntryFieldNames.ExpirationTime)
                entry.Add(EntryFieldNames.SetAsideExpirationTime, field.Value);
            else if (!replaced.Contains(name))
                entry.Add(field.Name, field.Value);
        }

        // The copy names the writer's host record under a new entry ID: held first, so that retention keeps it.
        await _bus.Hosts.HoldNamed(entry).ConfigureAwait(false);
        await _bus.Redis.Appends.Append(_destination, entry, onlyIfStreamExists: false).ConfigureAwait(false);

        Diagnostics.TransportMetrics.CountMoved(_endpoint, _target, reason);
    }

    static KeyValuePair<string, object>[] CreateHostHeaders()
    {
        var headers = new DictionarySendHeaders();
        headers.SetHostHeaders();

        return headers.GetAll().ToArray();
    }
}
