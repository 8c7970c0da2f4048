namespace MassTransit.RedisStreams.Dashboard;

using System;
using System.IO;
using System.Text;
using System.Text.Json;
using StackExchange.Redis;


/// <summary>A message body as an operator reads it: the message of MassTransit's envelope, or any other JSON, indented; else the text.</summary>
static class MessageBody
{
    const int MaxLength = 64 * 1024;

    static readonly JsonWriterOptions Indented = new() { Indented = true };

    public static string Format(RedisValue body)
    {
        if (body.IsNull)
            return "";

        var bytes = (ReadOnlyMemory<byte>)body;
        try
        {
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            var shown = root.ValueKind == JsonValueKind.Object
                && (root.TryGetProperty("messageType", out _) || root.TryGetProperty("MessageType", out _))
                && (root.TryGetProperty("message", out var message) || root.TryGetProperty("Message", out message))
                    ? message
                    : root;

            using var stream = new MemoryStream();
            using (var writer = new Utf8JsonWriter(stream, Indented))
                shown.WriteTo(writer);

            return Shorten(Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length));
        }
        catch (JsonException)
        {
            return Shorten(Encoding.UTF8.GetString(bytes.Span));
        }
    }

    static string Shorten(string text) => text.Length <= MaxLength ? text : text[..MaxLength] + "\n… (" + (text.Length - MaxLength) + " more characters)";
}
