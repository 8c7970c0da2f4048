namespace MassTransit.RedisStreams.Cli.Commands;

using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Operations;
using Spectre.Console;
using StackExchange.Redis;


/// <summary><c>redis-streams peek</c>: the entries of any stream, with why they failed for an error or skipped stream.</summary>
static class PeekCommand
{
    const int DefaultLimit = 20;

    static readonly JsonSerializerOptions IndentedBody = new() { WriteIndented = true };

    public static Command Create()
    {
        var stream = StreamArgument("The stream to read");
        var selection = new SelectionOptions($"How many entries at most. Default: {DefaultLimit}.");
        var body = new Option<bool>("--body", "-b") { Description = "Show each message's body as JSON." };
        var stack = new Option<bool>("--stack", "-s") { Description = "Show the stack trace of a failed message (json output always has it)." };

        var command = new Command("peek", "Reads entries of any stream — an event stream, a queue, an _error or _skipped stream — oldest first, "
            + "changing nothing: ID, time, message type and ID, and for a failed or skipped message why (reason, exception, fault message) "
            + "and where it came from and goes back to.") { stream, body, stack };
        selection.AddTo(command);

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, token) =>
        {
            var from = await session.ResolveExisting(parse.GetRequiredValue(stream)).ConfigureAwait(false);
            var entries = new List<StoredEntry>();
            await foreach (var entry in session.Operations.Read(from, selection.Get(parse, DefaultLimit), token).ConfigureAwait(false))
                entries.Add(entry);

            var withBody = parse.GetValue(body);
            if (CliOutput.IsJson(parse))
            {
                CliOutput.WriteJson(new PeekDocument(from.DisplayName, from.Key.ToString(), from.Kind,
                    entries.Select(x => Describe(session.Operations, from, x, withBody)).ToArray()));
                return ExitCodes.Done;
            }

            Render(session.Operations, from, entries, withBody, parse.GetValue(stack));
            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }

    /// <summary>The argument every command that takes a stream has, with the spellings it accepts.</summary>
    public static Argument<string> StreamArgument(string what) => new("stream")
    {
        Description = what + ": events:AuctionEnded, queue:orders, queue:orders_error, the key with the prefix (shop:queue:orders_error), "
            + "the kind and name the streams table prints (error:orders_error, skipped:orders), or a bare name that is one stream."
    };

    static void Render(EntryOperations operations, OperatedStream from, List<StoredEntry> entries, bool withBody, bool withStack)
    {
        var failures = from.Kind is RedisStreamsStreamKind.Error or RedisStreamsStreamKind.Skipped || entries.Any(x => x.Reason != null);
        var table = new Table().Border(TableBorder.Simple).AddColumns("ID", "Time (UTC)", "Type", "Message ID");
        if (failures)
            table.AddColumns("Reason", "Exception", "Fault message", "Came from", "Goes back to");

        foreach (var entry in entries)
        {
            var cells = new List<string>
            {
                entry.Id.ToString(), Time(entry.Time), Markup.Escape(ShortName(entry.MessageType, ':')), Markup.Escape(entry.MessageId ?? "")
            };
            if (failures)
            {
                cells.Add(entry.Reason is { } reason ? $"[red]{Markup.Escape(reason)}[/]" : "");
                cells.Add(Markup.Escape(ShortName(entry.ExceptionType, '.')));
                cells.Add(Markup.Escape(entry.FaultMessage ?? ""));
                cells.Add(Markup.Escape(CameFrom(operations, entry) ?? ""));
                cells.Add(Markup.Escape(operations.OriginalDestination(from, entry)?.DisplayName ?? ""));
            }

            table.AddRow(cells.ToArray());
        }

        AnsiConsole.Write(table);

        if (withBody || withStack)
        {
            foreach (var entry in entries)
            {
                AnsiConsole.Write(new Rule(Markup.Escape(entry.Id.ToString())).LeftJustified());
                if (withStack && entry.StackTrace is { } stackTrace)
                    AnsiConsole.WriteLine(stackTrace);
                if (withBody)
                    AnsiConsole.WriteLine(BodyText(entry.Body));
            }
        }

        AnsiConsole.WriteLine($"{entries.Count} entries of {from.DisplayName}.");
    }

    /// <summary>A type without its namespace, so that the table stays readable; json output has the whole name.</summary>
    static string ShortName(string? name, char separator) => name == null ? "" : name[(name.LastIndexOf(separator) + 1)..];

    static string? CameFrom(EntryOperations operations, StoredEntry entry)
    {
        if (entry.SourceStream is not { Length: > 0 } source)
            return null;

        var name = operations.Resolver.OfKey(source)?.DisplayName ?? source;
        return entry.SourceEntry is { } id ? $"{name} {id}" : name;
    }

    static PeekEntry Describe(EntryOperations operations, OperatedStream from, StoredEntry entry, bool withBody) => new(
        entry.Id.ToString(), entry.Time, entry.MessageType, entry.MessageTypes, entry.MessageId, entry.Reason, entry.ExceptionType,
        entry.FaultMessage, entry.StackTrace, entry.FaultTimestamp, entry.InputAddress, entry.ConsumerType,
        entry.SourceStream is { } source ? operations.Resolver.OfKey(source)?.DisplayName ?? source : null, entry.SourceEntry,
        operations.OriginalDestination(from, entry)?.DisplayName,
        Headers(entry),
        withBody ? BodyJson(entry.Body) : null);

    static Dictionary<string, string?> Headers(StoredEntry entry)
    {
        var headers = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var field in entry.Headers)
            headers[(string)field.Name!] = (string?)field.Value;

        return headers;
    }

    /// <summary>The body as JSON when it is JSON, else as a string.</summary>
    static JsonElement? BodyJson(RedisValue body)
    {
        if (body.IsNull)
            return null;

        try
        {
            using var document = JsonDocument.Parse((ReadOnlyMemory<byte>)body);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(Encoding.UTF8.GetString(((ReadOnlyMemory<byte>)body).Span));
        }
    }

    static string BodyText(RedisValue body) =>
        BodyJson(body) is { ValueKind: not JsonValueKind.String } json
            ? JsonSerializer.Serialize(json, IndentedBody)
            : (string?)body ?? "";

    static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);


    sealed record PeekDocument(string Stream, string Key, RedisStreamsStreamKind Kind, IReadOnlyList<PeekEntry> Entries);


    sealed record PeekEntry(string Id, DateTimeOffset Time, string? MessageType, IReadOnlyList<string> MessageTypes, string? MessageId,
        string? Reason, string? ExceptionType, string? FaultMessage, string? StackTrace, string? FaultTimestamp, string? InputAddress,
        string? ConsumerType, string? SourceStream, string? SourceEntry, string? Destination, IReadOnlyDictionary<string, string?> Headers,
        JsonElement? Body);
}
