namespace MassTransit.RedisStreams.Transport;

using System;
using System.Net.Mime;
using System.Text.Json;
using StackExchange.Redis;


/// <summary>
/// Checks an entry before it is handed to MassTransit, so that what another writer put in a stream — no body, a body that is
/// not JSON, a malformed header, a huge entry, binary garbage — is moved aside with a reason a person can act on, rather
/// than failing somewhere inside deserialization.
/// </summary>
static class EntryValidator
{
    /// <summary>The body of <paramref name="entry" />, from its <c>body</c> field or, without one, its <c>data</c> field.</summary>
    public static (RedisValue Field, RedisValue Body) GetBody(StreamEntry entry)
    {
        RedisValue field = EntryWriter.BodyField;
        var body = entry[field];
        if (body.IsNull)
        {
            field = EntryWriter.AlternateBodyField;
            body = entry[field];
        }

        return (field, body);
    }

    const string EnvelopeMediaType = "application/vnd.masstransit+json";

    /// <summary>Returns why the entry cannot be delivered, or null when it can.</summary>
    /// <param name="entry">The entry.</param>
    /// <param name="maxMessageSize">The largest entry accepted, in bytes.</param>
    /// <param name="defaultMediaType">
    /// The media type of the endpoint's default deserializer, used for an entry without a Content-Type field.
    /// </param>
    public static string? Check(StreamEntry entry, int maxMessageSize, string defaultMediaType)
    {
        long size = 0;
        string? contentType = null;
        foreach (var field in entry.Values)
        {
            size += field.Name.Length() + field.Value.Length();

            if (field.Name == MessageHeaders.ContentType)
                contentType = field.Value;
        }

        if (size > maxMessageSize)
            return $"The entry is {size} bytes, more than the MaxMessageSize of {maxMessageSize} bytes; it was not read.";

        var (_, body) = GetBody(entry);
        if (body.IsNull)
            return "The entry has no 'body' field (nor a 'data' field), so it carries no message.";

        if (contentType != null)
        {
            try
            {
                var parsed = new ContentType(contentType);
                contentType = parsed.MediaType;
            }
            catch (FormatException)
            {
                return $"The Content-Type '{contentType}' is not a valid content type.";
            }
        }

        var mediaType = contentType ?? defaultMediaType;
        if (mediaType.EndsWith("json", StringComparison.OrdinalIgnoreCase))
        {
            var expectEnvelope = mediaType.Equals(EnvelopeMediaType, StringComparison.OrdinalIgnoreCase);
            var problem = DescribeInvalidJson((byte[])body!, expectEnvelope);
            if (problem != null)
            {
                return contentType == null
                    ? $"The entry has no Content-Type field and the endpoint expects {mediaType}, but {problem}"
                    : $"The Content-Type is {contentType}, but {problem}";
            }
        }

        foreach (var header in GuidHeaders)
        {
            var value = entry[header];
            if (!value.IsNull && !Guid.TryParse((string?)value, out _))
                return $"The {header} field '{Shorten(value)}' is not a GUID.";
        }

        foreach (var header in AddressHeaders)
        {
            var value = entry[header];
            if (!value.IsNull && !Uri.TryCreate((string?)value, UriKind.Absolute, out _))
                return $"The {header} field '{Shorten(value)}' is not an absolute address.";
        }

        return null;
    }

    static readonly string[] GuidHeaders =
    [
        MessageHeaders.MessageId, MessageHeaders.CorrelationId, MessageHeaders.ConversationId, MessageHeaders.RequestId,
        MessageHeaders.InitiatorId
    ];

    static readonly string[] AddressHeaders = [MessageHeaders.SourceAddress, MessageHeaders.ResponseAddress, MessageHeaders.FaultAddress];

    /// <summary>
    /// Reads the body once without allocating; with <paramref name="expectEnvelope" /> it must also be a MassTransit envelope,
    /// an object with a "message" property.
    /// </summary>
    static string? DescribeInvalidJson(ReadOnlySpan<byte> body, bool expectEnvelope)
    {
        if (body.IsEmpty)
            return "the body is empty.";

        var hasMessage = false;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 256 });
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1
                    && (reader.ValueTextEquals("message"u8) || reader.ValueTextEquals("Message"u8)))
                    hasMessage = true;
            }
        }
        catch (JsonException exception)
        {
            return $"the body is not valid JSON: {exception.Message}";
        }

        if (expectEnvelope && !hasMessage)
        {
            return "the body is not a MassTransit envelope (a JSON object with a \"message\" property). To consume plain JSON written by "
                + "other programs, configure the endpoint with UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType, isDefault: true).";
        }

        return null;
    }

    static string Shorten(RedisValue value)
    {
        var text = (string?)value ?? "";
        return text.Length <= 64 ? text : text[..64] + "...";
    }
}
