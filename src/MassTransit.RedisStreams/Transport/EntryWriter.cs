namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
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
        // The body, the IDs, the host record and the message types, with room for a few headers more; it grows when needed.
        var entry = new NewEntry(10);
        entry.Add(Names.Body, context.Body.GetBytes());

        var ownFormat = NamesHost(context);
        if (!ownFormat && context.ContentType is { } contentType)
            entry.Add(Names.ContentType, contentType.ToString());

        AddId(entry, Names.MessageId, context.MessageId);
        AddId(entry, Names.CorrelationId, context.CorrelationId);
        AddId(entry, Names.ConversationId, context.ConversationId);
        AddId(entry, Names.InitiatorId, context.InitiatorId);
        AddId(entry, Names.RequestId, context.RequestId);
        if (ownFormat && host != null)
        {
            entry.Add(Names.Host, host.IdBytes);
            if (context.SourceAddress != host.Address)
                AddAddress(entry, Names.SourceAddress, context.SourceAddress);
        }
        else
            AddAddress(entry, Names.SourceAddress, context.SourceAddress);
        AddAddress(entry, Names.ResponseAddress, context.ResponseAddress);
        AddAddress(entry, Names.FaultAddress, context.FaultAddress);
        if (context.SupportedMessageTypes is { Length: > 0 } types)
            entry.Add(Names.MessageType, JoinMessageTypes(types));

        // The time to live counts from when the message enters its stream: for a delayed message, from when it is due, as a
        // broker's queue counts it from when the delay releases the message.
        if (context.TimeToLive is { } timeToLive && timeToLive > TimeSpan.Zero)
        {
            var enters = context.Delay is { } delay && delay > TimeSpan.Zero ? DateTime.UtcNow + delay : DateTime.UtcNow;
            entry.Add(Names.ExpirationTime, (enters + timeToLive).ToString("O", CultureInfo.InvariantCulture));
        }

        foreach (var header in context.Headers.GetAll())
        {
            // The fields above come first and win; a custom header of the same name is not written twice. In the transport's
            // own format, host information is in the host record.
            if (header.Key == EntryFieldNames.Body || ownFormat && header.Key is MessageHeaders.Host.Info or EntryFieldNames.Host
                || entry.Contains(header.Key))
                continue;

            var value = FormatHeaderValue(header.Value);
            if (!value.IsNull)
                entry.Add(header.Key, value);
        }

        return entry;
    }

    /// <summary>A GUID header as its 36 characters of text, written straight to the UTF-8 bytes that go to Redis.</summary>
    static void AddId(NewEntry entry, FieldName name, Guid? value)
    {
        if (!value.HasValue)
            return;

        var bytes = new byte[36];
        value.Value.TryFormat(bytes, out _, "D");
        entry.Add(name, bytes);
    }

    static void AddAddress(NewEntry entry, FieldName name, Uri? address)
    {
        if (address != null)
            entry.Add(name, address.ToString());
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
    static RedisValue JoinMessageTypes(string[] types)
    {
        if (!JoinedMessageTypes.TryGetValue(types, out var joined))
        {
            joined = Encoding.UTF8.GetBytes(types.Length == 1 ? types[0] : string.Join(";", types));
            if (JoinedMessageTypes.Count < 10_000)
                JoinedMessageTypes.TryAdd(types, joined);
        }

        return joined;
    }

    /// <summary>The joined types by array, as the bytes that go to Redis.</summary>
    static readonly ConcurrentDictionary<string[], RedisValue> JoinedMessageTypes = new(ReferenceEqualityComparer.Instance);


    /// <summary>The names of the fields written for every message, encoded once.</summary>
    static class Names
    {
        public static readonly FieldName Body = new(EntryFieldNames.Body);
        public static readonly FieldName ContentType = new(MessageHeaders.ContentType);
        public static readonly FieldName MessageId = new(MessageHeaders.MessageId);
        public static readonly FieldName CorrelationId = new(MessageHeaders.CorrelationId);
        public static readonly FieldName ConversationId = new(MessageHeaders.ConversationId);
        public static readonly FieldName InitiatorId = new(MessageHeaders.InitiatorId);
        public static readonly FieldName RequestId = new(MessageHeaders.RequestId);
        public static readonly FieldName Host = new(EntryFieldNames.Host);
        public static readonly FieldName SourceAddress = new(MessageHeaders.SourceAddress);
        public static readonly FieldName ResponseAddress = new(MessageHeaders.ResponseAddress);
        public static readonly FieldName FaultAddress = new(MessageHeaders.FaultAddress);
        public static readonly FieldName MessageType = new(MessageHeaders.MessageType);
        public static readonly FieldName ExpirationTime = new(EntryFieldNames.ExpirationTime);
    }

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
