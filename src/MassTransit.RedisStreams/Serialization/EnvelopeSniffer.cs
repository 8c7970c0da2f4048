namespace MassTransit.RedisStreams.Serialization;

using System;
using System.Text.Json;


/// <summary>
/// Tells a MassTransit envelope that another program wrote without saying so (no Content-Type, no <c>MT-MessageType</c>)
/// from plain JSON: a JSON object with top-level <c>message</c> and <c>messageType</c> properties, in either case. Both are
/// asked for, so that plain JSON that happens to have a <c>message</c> property is read as the message it is. The receive
/// path and the event log ask here.
/// </summary>
static class EnvelopeSniffer
{
    public static bool LooksLikeEnvelope(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return false;

            var hasMessage = false;
            var hasMessageType = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("message"u8) || reader.ValueTextEquals("Message"u8))
                    hasMessage = true;
                else if (reader.ValueTextEquals("messageType"u8) || reader.ValueTextEquals("MessageType"u8))
                    hasMessageType = true;

                reader.Read();
                reader.Skip();
            }

            return hasMessage && hasMessageType;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
