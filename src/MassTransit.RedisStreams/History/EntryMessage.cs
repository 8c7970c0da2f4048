namespace MassTransit.RedisStreams.History;

using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Net.Mime;
using System.Runtime.Serialization;
using System.Text.Json;
using MassTransit.Serialization;
using StackExchange.Redis;
using RedisStreams.Serialization;
using Transport;
using Transports;


/// <summary>
/// The message in one stored entry, read with the bus's deserializers: as the type the entry says it is, or — for the
/// history of a stream, whose entries are that stream's type by their stream — straight from its JSON.
/// </summary>
sealed class EntryMessage
{
    static readonly SystemTextJsonRawMessageSerializer RawJson = new(RawSerializerOptions.AnyMessageType);
    static readonly Lazy<EntryJsonSerializer> EntryJson = new(() => new EntryJsonSerializer());

    readonly ReadOnlyMemory<byte> _body;
    readonly Lazy<SerializerContext?> _context;
    readonly EntryHeaderProvider _fields;
    Exception? _deserializeError;
    bool _isEnvelope;

    public EntryMessage(StreamEntry entry, ISerialization? serialization, HostRecords? hosts)
    {
        var (bodyField, body) = EntryValidator.GetBody(entry);
        _fields = new EntryHeaderProvider(entry, bodyField, hosts);
        Headers = new JsonTransportHeaders(_fields);

        _body = body.IsNull ? ReadOnlyMemory<byte>.Empty : (ReadOnlyMemory<byte>)body;
        var contentType = (string?)entry[MessageHeaders.ContentType];

        _context = new Lazy<SerializerContext?>(() => Deserialize(serialization, contentType));
    }

    /// <summary>The entry's fields other than the body, as MassTransit headers.</summary>
    public Headers Headers { get; }

    /// <summary>The serializer's view of the entry (message ID, sent time, headers), when it deserialized.</summary>
    public SerializerContext? Context => _context.Value;

    /// <summary>
    /// Every header of the message: the entry's fields, then what only the body holds (the headers inside MassTransit's
    /// envelope).
    /// </summary>
    public Headers GetAllHeaders() => Context?.Headers is { } inside ? new JsonTransportHeaders(new FieldsThenBody(_fields, inside)) : Headers;

    /// <summary>
    /// Reads the message as <typeparamref name="T" />: with <paramref name="declaredOnly" />, only when the entry says it is
    /// one (its message types include <typeparamref name="T" />); otherwise also from its JSON, for an entry whose type was
    /// renamed since, or is another service's copy of the contract.
    /// </summary>
    public bool TryRead<T>(bool declaredOnly, [NotNullWhen(true)] out T? message, out Exception? error)
        where T : class
    {
        error = null;
        message = null;

        var context = _context.Value;
        if (context == null)
        {
            error = _deserializeError;
            return false;
        }

        try
        {
            if (context.TryGetMessage<T>(out var declared) && declared != null)
            {
                message = declared;
                return true;
            }

            if (declaredOnly)
            {
                error = new SerializationException($"The entry is not a {TypeCache<T>.ShortName}.");
                return false;
            }

            message = GetMessageJson()?.Deserialize<T>(SystemTextJsonMessageSerializer.Options);
            if (message != null)
                return true;

            error = new SerializationException($"The entry is not a {TypeCache<T>.ShortName}.");
            return false;
        }
        catch (Exception exception) when (exception is JsonException or SerializationException or NotSupportedException or InvalidOperationException
            or ArgumentException or FormatException)
        {
            message = null;
            error = new SerializationException($"The entry does not read as {TypeCache<T>.ShortName}: {exception.Message}", exception);
            return false;
        }
    }

    SerializerContext? Deserialize(ISerialization? serialization, string? contentTypeHeader)
    {
        if (_body.IsEmpty)
        {
            _deserializeError = new SerializationException("The entry has no body.");
            return null;
        }

        try
        {
            // Without a Content-Type: the transport's own format, which also reads plain JSON and envelopes other programs wrote.
            var contentType = contentTypeHeader != null ? new ContentType(contentTypeHeader) : EntryJsonSerializer.EntryJsonContentType;
            _isEnvelope = contentType.MediaType.Equals(SystemTextJsonMessageSerializer.JsonContentType.MediaType, StringComparison.OrdinalIgnoreCase)
                || (contentTypeHeader == null && !Headers.TryGetHeader(MessageHeaders.MessageType, out _) && EnvelopeSniffer.LooksLikeEnvelope(_body.Span));

            IMessageDeserializer? deserializer = null;
            if (serialization?.TryGetMessageDeserializer(contentType, out deserializer) != true)
            {
                deserializer = contentType.MediaType switch
                {
                    "application/vnd.masstransit+json" => SystemTextJsonMessageSerializer.Instance,
                    "application/json" or "text/json" => RawJson,
                    _ when contentType.MediaType == EntryJsonSerializer.MediaType => EntryJson.Value,
                    _ => throw new SerializationException($"No deserializer for the content type {contentType.MediaType}.")
                };
            }

            return deserializer!.Deserialize(new BytesMessageBody(_body.ToArray()), Headers);
        }
        catch (Exception exception) when (exception is SerializationException or FormatException or JsonException)
        {
            _deserializeError = exception;
            return null;
        }
    }

    /// <summary>The message's own JSON: the envelope's <c>message</c>, or the whole body of any other JSON.</summary>
    JsonElement? GetMessageJson()
    {
        using var document = JsonDocument.Parse(_body);
        var root = document.RootElement;
        if (_isEnvelope && root.ValueKind == JsonValueKind.Object
            && (root.TryGetProperty("message", out var message) || root.TryGetProperty("Message", out message)))
            return message.Clone();

        return root.Clone();
    }


    sealed class FieldsThenBody :
        IHeaderProvider
    {
        readonly Headers _body;
        readonly IHeaderProvider _fields;

        public FieldsThenBody(IHeaderProvider fields, Headers body)
        {
            _fields = fields;
            _body = body;
        }

        public IEnumerable<KeyValuePair<string, object>> GetAll()
        {
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var header in _fields.GetAll())
            {
                seen.Add(header.Key);
                yield return header;
            }

            foreach (var header in _body.GetAll())
            {
                if (seen.Add(header.Key))
                    yield return header;
            }
        }

        public bool TryGetHeader(string key, [NotNullWhen(true)] out object? value)
        {
            return _fields.TryGetHeader(key, out value) || _body.TryGetHeader(key, out value);
        }
    }
}
