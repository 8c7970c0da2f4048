namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Redis;
using Serialization;
using StackExchange.Redis;
using Transports;


/// <summary>
/// Moves a received entry to another stream of the same endpoint (<c>_error</c>, <c>_skipped</c>): the entry's fields are
/// copied as they are, with headers saying why added. The caller acknowledges the original only after this returns.
/// </summary>
abstract class RedisStreamsMoveTransport
{
    readonly RedisStreamsBroker _broker;
    readonly RedisKey _destination;

    protected RedisStreamsMoveTransport(RedisStreamsBroker broker, RedisKey destination)
    {
        _broker = broker;
        _destination = destination;
    }

    /// <summary>Where and by what the entry was moved, as MassTransit's other transports record it.</summary>
    static readonly KeyValuePair<string, object>[] HostHeaders = CreateHostHeaders();

    protected async Task Move(ReceiveContext context, IEnumerable<KeyValuePair<string, object>> addedHeaders)
    {
        var fields = new List<KeyValuePair<RedisValue, RedisValue>>(24);
        var replaced = new HashSet<string>(StringComparer.Ordinal);

        foreach (var header in addedHeaders.Concat(HostHeaders))
        {
            var value = EntryWriter.FormatHeaderValue(header.Value);
            if (!value.IsNull && replaced.Add(header.Key))
                fields.Add(new KeyValuePair<RedisValue, RedisValue>(header.Key, value));
        }

        // The error filter hands over a proxy of the receive context; the payload lookup reaches the original entry.
        if (context.TryGetPayload<RedisStreamsReceiveContext>(out var redisContext))
        {
            foreach (var field in redisContext.Entry.Values)
            {
                if (!replaced.Contains((string)field.Name!))
                    fields.Add(new KeyValuePair<RedisValue, RedisValue>(field.Name, field.Value));
            }
        }
        else
        {
            fields.Add(new KeyValuePair<RedisValue, RedisValue>(EntryWriter.BodyField, context.GetBody()));
            foreach (var header in context.TransportHeaders.GetAll())
            {
                if (replaced.Add(header.Key))
                    fields.Add(new KeyValuePair<RedisValue, RedisValue>(header.Key, EntryWriter.FormatHeaderValue(header.Value)));
            }
        }

        var arguments = RedisStreamsClient.CreateAppendArguments(fields.Count);
        var index = RedisStreamsClient.AppendHeaderSlots;
        foreach (var field in fields)
        {
            arguments[index++] = field.Key;
            arguments[index++] = field.Value;
        }

        await _broker.Client.Append(_destination, arguments, onlyIfStreamExists: false).ConfigureAwait(false);
    }

    static KeyValuePair<string, object>[] CreateHostHeaders()
    {
        var headers = new DictionarySendHeaders();
        headers.SetHostHeaders();

        return headers.GetAll().ToArray();
    }
}

