namespace MassTransit.RedisStreams.Serialization;

using System;
using System.Net.Mime;
using System.Runtime.Serialization;
using System.Text.Json;
using MassTransit.Serialization;
using Transport;


/// <summary>
/// The transport's own message format, its default: the body is the message's JSON alone (compact, no envelope), and every
/// header is a field of the entry beside it — MessageId, ConversationId, MT-MessageType and the rest under MassTransit's header
/// names, custom headers under their own. What is the same for every message of a process (its host information and the
/// address of its bus endpoint) is stored once, in a host record the entry names in <c>MT-Host</c>. An entry in this format
/// has no Content-Type field; it is what other programs write too, so plain JSON from them reads the same way.
/// </summary>
/// <remarks>
/// Compared with MassTransit's JSON envelope (indented, with the host block, the headers once more inside the body) an entry
/// of a 100-byte message takes about a quarter of the Redis memory, and nothing is lost: <see cref="EntryMessageContext" />
/// gives back every value the envelope held.
/// </remarks>
sealed class EntryJsonSerializer :
    IMessageSerializer,
    IMessageDeserializer
{
    /// <summary>The media type MassTransit knows the format by; it is never written to an entry.</summary>
    public const string MediaType = "application/vnd.masstransit.redis-streams+json";

    /// <summary>The content type of <see cref="MediaType" />.</summary>
    public static readonly ContentType EntryJsonContentType = new(MediaType);

    readonly JsonSerializerOptions _options;

    public EntryJsonSerializer()
    {
        // MassTransit's own options (its converters, and whatever the application configured), not indented.
        _options = new JsonSerializerOptions(SystemTextJsonMessageSerializer.Options) { WriteIndented = false };
    }

    public ContentType ContentType => EntryJsonContentType;

    public void Probe(ProbeContext context)
    {
        var scope = context.CreateScope("json");
        scope.Add("contentType", ContentType.MediaType);
        scope.Add("provider", "System.Text.Json");
        scope.Add("format", "message JSON in the body, headers as entry fields");
    }

    public MessageBody GetMessageBody<T>(SendContext<T> context)
        where T : class
    {
        return new SystemTextJsonRawMessageBody<T>(context, _options);
    }

    public ConsumeContext Deserialize(ReceiveContext receiveContext)
    {
        var destination = receiveContext is RedisStreamsReceiveContext entry ? entry.DestinationAddress : receiveContext.InputAddress;

        return new BodyConsumeContext(receiveContext, Deserialize(receiveContext.Body, receiveContext.TransportHeaders, destination));
    }

    public SerializerContext Deserialize(MessageBody body, Headers headers, Uri? destinationAddress = null)
    {
        try
        {
            var messageTypes = headers.GetMessageTypes();

            // An entry another program wrote without a type may still be a MassTransit envelope.
            if (messageTypes.Length == 0 && EnvelopeSniffer.LooksLikeEnvelope(body.GetBytes()))
                return SystemTextJsonMessageSerializer.Instance.Deserialize(body, headers, destinationAddress);

            JsonElement message;
            if (body is JsonMessageBody jsonMessageBody)
                message = jsonMessageBody.GetJsonElement(_options) ?? EmptyObject();
            else
            {
                var bytes = body.GetBytes();
                message = bytes.Length > 0 ? JsonSerializer.Deserialize<JsonElement>(bytes, _options) : EmptyObject();
            }

            var messageContext = new EntryMessageContext(headers, destinationAddress);

            return new SystemTextJsonRawSerializerContext(SystemTextJsonMessageSerializer.Instance, _options, ContentType, messageContext, messageTypes,
                RawSerializerOptions.CopyHeaders, message);
        }
        catch (SerializationException)
        {
            throw;
        }
        catch (Exception exception)
        {
            throw new SerializationException("The entry's body could not be read as JSON", exception);
        }
    }

    public MessageBody GetMessageBody(string text)
    {
        return new StringMessageBody(text);
    }

    static JsonElement EmptyObject()
    {
        using var document = JsonDocument.Parse("{}");
        return document.RootElement.Clone();
    }
}
