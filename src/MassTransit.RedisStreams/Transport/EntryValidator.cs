namespace MassTransit.RedisStreams.Transport;

using System;
using System.Buffers.Text;
using System.Net.Mime;
using System.Text;
using System.Text.Json;
using RedisStreams.Serialization;
using StackExchange.Redis;


/// <summary>
/// Checks an entry before it is handed to MassTransit, so that what another writer put in a stream — no body, a body that is
/// not JSON, a malformed header, a huge entry, binary garbage — is moved aside with a reason a person can act on, rather
/// than failing somewhere inside deserialization. It runs on every entry, so it reads the fields as bytes, once, and
/// allocates nothing for a valid entry.
/// </summary>
static class EntryValidator
{
    const string EnvelopeMediaType = "application/vnd.masstransit+json";

    /// <summary>The body of <paramref name="entry" />, from its <c>body</c> field or, without one, its <c>data</c> field.</summary>
    public static (string Field, RedisValue Body) GetBody(StreamEntry entry)
    {
        var data = RedisValue.Null;
        foreach (var field in entry.Values ?? [])
        {
            var name = ((ReadOnlyMemory<byte>)field.Name).Span;
            if (name.SequenceEqual(EntryFieldNames.BodyBytes))
                return (EntryFieldNames.Body, field.Value);
            if (data.IsNull && name.SequenceEqual(EntryFieldNames.AlternateBodyBytes))
                data = field.Value;
        }

        return data.IsNull ? (EntryFieldNames.Body, RedisValue.Null) : (EntryFieldNames.AlternateBody, data);
    }

    /// <summary>Returns why the entry cannot be delivered, or null when it can.</summary>
    /// <param name="entry">The entry.</param>
    /// <param name="maxMessageSize">The largest entry accepted, in bytes.</param>
    /// <param name="defaultMediaType">
    /// The media type of the endpoint's default deserializer, used for an entry without a Content-Type field that does not name
    /// its message types.
    /// </param>
    public static string? Check(StreamEntry entry, int maxMessageSize, string defaultMediaType)
    {
        long size = 0;
        RedisValue body = RedisValue.Null;
        RedisValue data = RedisValue.Null;
        RedisValue contentType = RedisValue.Null;
        var hasMessageType = false;

        foreach (var field in entry.Values)
        {
            size += field.Name.Length() + field.Value.Length();

            var name = ((ReadOnlyMemory<byte>)field.Name).Span;
            if (name.SequenceEqual(EntryFieldNames.BodyBytes))
                body = field.Value;
            else if (name.SequenceEqual(EntryFieldNames.AlternateBodyBytes))
                data = field.Value;
            else if (name.SequenceEqual(EntryFieldNames.ContentTypeBytes))
                contentType = field.Value;
            else if (name.SequenceEqual(EntryFieldNames.MessageTypeBytes))
                hasMessageType = true;
            else if (IsGuidHeader(name))
            {
                if (!IsGuid(field.Value))
                    return $"The {Encoding.UTF8.GetString(name)} field '{Shorten(field.Value)}' is not a GUID.";
            }
            else if (IsAddressHeader(name))
            {
                if (!IsAbsoluteAddress(field.Value))
                    return $"The {Encoding.UTF8.GetString(name)} field '{Shorten(field.Value)}' is not an absolute address.";
            }
        }

        if (size > maxMessageSize)
            return $"The entry is {size} bytes, more than the MaxMessageSize of {maxMessageSize} bytes; it was not read.";

        if (body.IsNull)
            body = data;
        if (body.IsNull)
            return "The entry has no 'body' field (nor a 'data' field), so it carries no message.";

        // Without a Content-Type, an entry that names its message types is in the transport's own format (see
        // RedisStreamsReceiveContext.GetContentType); any other is for the endpoint's default deserializer.
        var mediaType = hasMessageType ? EntryJsonSerializer.MediaType : defaultMediaType;
        if (!contentType.IsNull)
        {
            mediaType = GetMediaType(contentType);
            if (mediaType == null)
                return $"The Content-Type '{Shorten(contentType)}' is not a valid content type.";
        }

        if (mediaType.EndsWith("json", StringComparison.OrdinalIgnoreCase))
        {
            var expectEnvelope = mediaType.Equals(EnvelopeMediaType, StringComparison.OrdinalIgnoreCase);
            var problem = DescribeInvalidJson(((ReadOnlyMemory<byte>)body).Span, expectEnvelope, !contentType.IsNull);
            if (problem != null)
            {
                return contentType.IsNull
                    ? $"The entry has no Content-Type field and the endpoint expects {mediaType}, but {problem}"
                    : $"The Content-Type is {mediaType}, but {problem}";
            }
        }

        return null;
    }

    static bool IsGuidHeader(ReadOnlySpan<byte> name)
    {
        return name.SequenceEqual("MessageId"u8) || name.SequenceEqual("CorrelationId"u8) || name.SequenceEqual("ConversationId"u8)
            || name.SequenceEqual("RequestId"u8) || name.SequenceEqual("MT-InitiatorId"u8);
    }

    static bool IsAddressHeader(ReadOnlySpan<byte> name)
    {
        return name.SequenceEqual("MT-Source-Address"u8) || name.SequenceEqual("MT-Response-Address"u8) || name.SequenceEqual("MT-Fault-Address"u8);
    }

    static bool IsGuid(RedisValue value)
    {
        var span = ((ReadOnlyMemory<byte>)value).Span;
        return Utf8Parser.TryParse(span, out Guid _, out var consumed) && consumed == span.Length;
    }

    /// <summary>A scheme (a letter, then letters, digits, '+', '-' or '.') and a colon, then no whitespace: what an address needs.</summary>
    static bool IsAbsoluteAddress(RedisValue value)
    {
        var span = ((ReadOnlyMemory<byte>)value).Span;
        if (span.IsEmpty || !char.IsAsciiLetter((char)span[0]))
            return false;

        var colon = span.IndexOf((byte)':');
        if (colon <= 0 || colon == span.Length - 1)
            return false;

        foreach (var c in span[..colon])
        {
            if (!char.IsAsciiLetterOrDigit((char)c) && c is not ((byte)'+' or (byte)'-' or (byte)'.'))
                return false;
        }

        foreach (var c in span)
        {
            if (c <= (byte)' ')
                return false;
        }

        return true;
    }

    /// <summary>The media type of a Content-Type value, or null when it does not parse. The usual two need no parsing.</summary>
    static string? GetMediaType(RedisValue contentType)
    {
        var span = ((ReadOnlyMemory<byte>)contentType).Span;
        if (span.SequenceEqual("application/vnd.masstransit+json"u8))
            return EnvelopeMediaType;
        if (span.SequenceEqual("application/json"u8))
            return "application/json";

        try
        {
            return new ContentType((string)contentType!).MediaType;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// Reads the body once without allocating; with <paramref name="expectEnvelope" /> it must also be a MassTransit envelope,
    /// an object with a "message" property.
    /// </summary>
    static string? DescribeInvalidJson(ReadOnlySpan<byte> body, bool expectEnvelope, bool declared)
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
            // Said by the entry itself, the writer is wrong; assumed for an entry without Content-Type, the endpoint's default is.
            return declared
                ? "the body is not a MassTransit envelope (a JSON object with a \"message\" property). Write the envelope, or leave the "
                + "Content-Type field out to send plain JSON with the headers as fields."
                : "the body is not a MassTransit envelope (a JSON object with a \"message\" property). To consume plain JSON written by "
                + "other programs, remove the endpoint's envelope default deserializer, or configure UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType, isDefault: true).";
        }

        return null;
    }

    static string Shorten(RedisValue value)
    {
        var text = (string?)value ?? "";
        return text.Length <= 64 ? text : text[..64] + "...";
    }
}
