namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Text.Json;
using Context;
using Redis;
using RedisStreams.Serialization;
using StackExchange.Redis;


/// <summary>
/// Turns a message into the fields of a stream entry: <c>body</c>, then one field per header under MassTransit's own header
/// names (<c>MessageId</c>, <c>MT-MessageType</c>, ...). Every value is text except a body that is not, so entries stay
/// readable with redis-cli and other languages can write entries the transport understands.
/// </summary>
/// <remarks>
/// A message in the transport's own format (<see cref="EntryJsonSerializer" />) gets no Content-Type field, and names the
/// writer's host record in <c>MT-Host</c> instead of carrying host information; its source address is left out when it is the
/// record's. A message in another format (MassTransit's envelope, XML, ...) says so in Content-Type and carries what its
/// body holds.
/// </remarks>
static class EntryWriter
{
    /// <summary>The fields of the entry a send or publish appends.</summary>
    /// <param name="context">The message.</param>
    /// <param name="host">The writer's host record, named by an entry in the transport's own format; null for none.</param>
    public static NewEntry Write<T>(MessageSendContext<T> context, HostRecord? host)
        where T : class
    {
        var entry = new NewEntry();
        entry.Add(EntryFieldNames.Body, context.Body.GetBytes());

        void Add(string name, RedisValue value)
        {
            if (!value.IsNull)
                entry.Add(name, value);
        }

        var ownFormat = NamesHost(context);
        if (!ownFormat)
            Add(MessageHeaders.ContentType, context.ContentType?.ToString());

        Add(MessageHeaders.MessageId, Format(context.MessageId));
        Add(MessageHeaders.CorrelationId, Format(context.CorrelationId));
        Add(MessageHeaders.ConversationId, Format(context.ConversationId));
        Add(MessageHeaders.InitiatorId, Format(context.InitiatorId));
        Add(MessageHeaders.RequestId, Format(context.RequestId));
        if (ownFormat && host != null)
        {
            Add(EntryFieldNames.Host, host.Id);
            if (context.SourceAddress != host.Address)
                Add(MessageHeaders.SourceAddress, context.SourceAddress?.ToString());
        }
        else
            Add(MessageHeaders.SourceAddress, context.SourceAddress?.ToString());
        Add(MessageHeaders.ResponseAddress, context.ResponseAddress?.ToString());
        Add(MessageHeaders.FaultAddress, context.FaultAddress?.ToString());
        Add(MessageHeaders.MessageType, context.SupportedMessageTypes is { Length: > 0 } types ? JoinMessageTypes(types) : null);

        // The time to live counts from when the message enters its stream: for a delayed message, from when it is due, as a
        // broker's queue counts it from when the delay releases the message.
        if (context.TimeToLive is { } timeToLive && timeToLive > TimeSpan.Zero)
        {
            var enters = context.Delay is { } delay && delay > TimeSpan.Zero ? DateTime.UtcNow + delay : DateTime.UtcNow;
            Add(EntryFieldNames.ExpirationTime, (enters + timeToLive).ToString("O", CultureInfo.InvariantCulture));
        }

        foreach (var header in context.Headers.GetAll())
        {
            // The fields above come first and win; a custom header of the same name is not written twice. In the transport's
            // own format, host information is in the host record.
            if (header.Key == EntryFieldNames.Body || ownFormat && header.Key is MessageHeaders.Host.Info or EntryFieldNames.Host
                || entry.Contains(header.Key))
                continue;

            Add(header.Key, FormatHeaderValue(header.Value));
        }

        return entry;
    }

    /// <summary>Whether the message is in the transport's own format, whose entry names the writer's host record.</summary>
    public static bool NamesHost(SendContext context)
    {
        return context.ContentType is { } contentType && contentType.MediaType == EntryJsonSerializer.MediaType;
    }

    /// <summary>
    /// The MT-MessageType value: the URNs joined by ';'. MassTransit hands every message of a type the same array, so the
    /// joined text is made once per array.
    /// </summary>
    static string JoinMessageTypes(string[] types)
    {
        if (types.Length == 1)
            return types[0];

        if (!JoinedMessageTypes.TryGetValue(types, out var joined))
        {
            joined = string.Join(";", types);
            if (JoinedMessageTypes.Count < 10_000)
                JoinedMessageTypes.TryAdd(types, joined);
        }

        return joined;
    }

    static readonly ConcurrentDictionary<string[], string> JoinedMessageTypes = new(ReferenceEqualityComparer.Instance);

    static RedisValue Format(Guid? value) => value.HasValue ? value.Value.ToString("D") : RedisValue.Null;

    /// <summary>
    /// Header values become text: dates in round-trip format, numbers invariant, anything else that is not a simple value as
    /// JSON, which MassTransit's transport headers read back into the type asked for.
    /// </summary>
    public static RedisValue FormatHeaderValue(object? value)
    {
        return value switch
        {
            null => RedisValue.Null,
            string text => text,
            Guid guid => guid.ToString("D"),
            Uri uri => uri.ToString(),
            DateTime dateTime => dateTime.ToString("O", CultureInfo.InvariantCulture),
            DateTimeOffset dateTimeOffset => dateTimeOffset.ToString("O", CultureInfo.InvariantCulture),
            bool boolean => boolean ? "true" : "false",
            TimeSpan timeSpan => timeSpan.ToString("c", CultureInfo.InvariantCulture),
            Enum enumValue => enumValue.ToString(),
            IFormattable formattable when value.GetType().IsPrimitive || value is decimal => formattable.ToString(null, CultureInfo.InvariantCulture),
            byte[] bytes => bytes,
            _ => JsonSerializer.Serialize(value, value.GetType())
        };
    }
}
