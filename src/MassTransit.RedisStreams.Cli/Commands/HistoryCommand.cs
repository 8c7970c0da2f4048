namespace MassTransit.RedisStreams.Cli.Commands;

using System;
using System.CommandLine;
using System.Threading.Tasks;
using System.Text;
using System.Text.Json;
using Redis;
using StackExchange.Redis;
using Transport;


/// <summary><c>redis-streams history</c>: a message type's events as JSON.</summary>
static class HistoryCommand
{
    static readonly JsonWriterOptions Indented = new() { Indented = true };

    public static Command Create()
    {
        var entity = new Argument<string>("entity") { Description = "The entity name of the message type, e.g. AuctionEnded." };
        var count = new Option<int>("--count", "-n") { Description = "How many events at most.", DefaultValueFactory = _ => 10 }.AtLeastOne();
        var from = CliOptions.Position("--from", "The oldest event to show.");
        var to = CliOptions.Position("--to", "The newest event to show.");
        var oldestFirst = new Option<bool>("--oldest-first") { Description = "Oldest first; newest first without it." };

        var command = new Command("history", "Shows the events of a message type (and of the types derived from it) as JSON: ID, time, "
            + "headers and message, newest first.") { entity, count, from, to, oldestFirst };


        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, token) =>
        {
            var entityName = parse.GetRequiredValue(entity);
            if (!await session.Redis.Admin.Exists(session.Redis.Keys.Events(entityName)).ConfigureAwait(false))
                throw new CliException(ExitCodes.NotFound, $"there is no stream {session.Redis.Keys.Events(entityName)}.");

            using var output = Console.OpenStandardOutput();
            await using var writer = new Utf8JsonWriter(output, Indented);
            writer.WriteStartArray();

            // With --archive, each event says where it is: in the archive (up to the stream's archive mark) or in Redis.
            var marks = new System.Collections.Generic.Dictionary<RedisKey, StreamEntryId?>();
            var written = 0;
            var limit = parse.GetValue(count);
            await foreach (var (stream, entry) in session.History.ReadStored(entityName, parse.GetValue(from), parse.GetValue(to),
                !parse.GetValue(oldestFirst), token).ConfigureAwait(false))
            {
                string? where = null;
                if (session.Archive != null)
                {
                    if (!marks.TryGetValue(stream, out var mark))
                        marks[stream] = mark = await session.Redis.Archives.Get(stream).ConfigureAwait(false);
                    where = mark is { } archived && StreamEntryId.Parse(entry.Id) <= archived ? "archive" : "redis";
                }

                Write(writer, stream, entry, where);
                if (++written == limit)
                    break;
            }

            writer.WriteEndArray();
            await writer.FlushAsync(token).ConfigureAwait(false);
            Console.WriteLine();

            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }

    static void Write(Utf8JsonWriter writer, RedisKey stream, StreamEntry entry, string? where)
    {
        var id = StreamEntryId.Parse(entry.Id);
        var (bodyField, body) = EntryValidator.GetBody(entry);

        writer.WriteStartObject();
        writer.WriteString("id", id.ToString());
        writer.WriteString("time", id.Timestamp);
        writer.WriteString("stream", stream.ToString());
        if (where != null)
            writer.WriteString("in", where);

        writer.WriteStartObject("headers");
        foreach (var field in entry.Values)
        {
            if (field.Name != bodyField)
                writer.WriteString((string)field.Name!, (string?)field.Value);
        }

        writer.WriteEndObject();

        writer.WritePropertyName("message");
        WriteMessage(writer, body, IsEnvelope(entry));
        writer.WriteEndObject();
    }

    /// <summary>
    /// Whether the body is MassTransit's envelope: its Content-Type says so, or — for an entry with neither Content-Type nor
    /// MT-MessageType, written by another program — it has the envelope's <c>messageType</c>.
    /// </summary>
    static bool IsEnvelope(StreamEntry entry)
    {
        var contentType = (string?)entry[MessageHeaders.ContentType];
        if (contentType != null)
            return contentType.StartsWith("application/vnd.masstransit+json", StringComparison.OrdinalIgnoreCase);

        return entry[MessageHeaders.MessageType].IsNull;
    }

    /// <summary>The message itself: the envelope's <c>message</c>, the whole body of any other JSON, or the body as text.</summary>
    static void WriteMessage(Utf8JsonWriter writer, RedisValue body, bool envelope)
    {
        if (body.IsNull)
        {
            writer.WriteNullValue();
            return;
        }

        try
        {
            using var document = JsonDocument.Parse((ReadOnlyMemory<byte>)body);
            var root = document.RootElement;
            if (envelope && root.ValueKind == JsonValueKind.Object
                && (root.TryGetProperty("messageType", out _) || root.TryGetProperty("MessageType", out _))
                && (root.TryGetProperty("message", out var message) || root.TryGetProperty("Message", out message)))
                message.WriteTo(writer);
            else
                root.WriteTo(writer);
        }
        catch (JsonException)
        {
            writer.WriteStringValue(Encoding.UTF8.GetString(((ReadOnlyMemory<byte>)body).Span));
        }
    }
}
