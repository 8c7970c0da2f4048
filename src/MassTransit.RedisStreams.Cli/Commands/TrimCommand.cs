namespace MassTransit.RedisStreams.Cli.Commands;

using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Spectre.Console;


/// <summary><c>redis-streams trim</c>: the retention pass, now.</summary>
static class TrimCommand
{
    public static Command Create()
    {
        var events = Policy("--events", "Event streams.", "all");
        var faults = Policy("--faults", "Fault event streams.", "7d");
        var queues = Policy("--queues", "Queue streams an endpoint reads.", "0");
        var deadLetters = Policy("--dead-letters", "Error and skipped streams, and queues no endpoint reads yet.", "all");

        var command = new Command("trim", "Trims every stream by its retention policy now, never removing an entry a consumer group has not "
            + "had delivered and acknowledged, and reports what it removed. A policy is 'all' (keep everything), a number of entries (1000), "
            + "an age (7d, 12h), or both (1000,7d).") { events, faults, queues, deadLetters };

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, token) =>
        {
            var admin = new RedisStreamsAdmin(session.Multiplexer, session.KeyPrefix, retention: r =>
            {
                r.Events = parse.GetRequiredValue(events);
                r.Faults = parse.GetRequiredValue(faults);
                r.Queues = parse.GetRequiredValue(queues);
                r.DeadLetters = parse.GetRequiredValue(deadLetters);
            });

            TrimReport? report = null;
            await CliOutput.Progress(parse, "trim", null, async _ => report = await admin.Trim(token).ConfigureAwait(false)).ConfigureAwait(false);
            if (CliOutput.IsJson(parse))
            {
                CliOutput.WriteJson(report!);
                return ExitCodes.Done;
            }

            var table = new Table().Border(TableBorder.Simple).AddColumns("Stream", "Removed", "Kept for group");
            foreach (var (stream, removed) in report!.Removed)
                table.AddRow(Markup.Escape(stream), StreamsCommand.Count(removed), Markup.Escape(report.KeptForGroup.TryGetValue(stream, out var group) ? group : ""));
            foreach (var (stream, keptFor) in report.KeptForGroup)
            {
                if (!report.Removed.ContainsKey(stream))
                    table.AddRow(Markup.Escape(stream), "0", Markup.Escape(keptFor));
            }

            AnsiConsole.Write(table);
            foreach (var group in report.RemovedGroups)
                AnsiConsole.WriteLine($"Removed the group of a temporary endpoint that is gone: {group}");

            AnsiConsole.WriteLine($"Trimmed {report.StreamsExamined} streams: removed {report.TotalRemoved} entries.");
            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }

    static Option<RetentionPolicy> Policy(string name, string description, string defaultValue) => new(name)
    {
        Description = description + $" Default: {defaultValue}.",
        DefaultValueFactory = _ => Parse(defaultValue)!,
        CustomParser = result => ParsePolicy(result)
    };

    static RetentionPolicy ParsePolicy(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        var policy = Parse(text);
        if (policy == null)
            result.AddError($"'{text}' is not a retention policy: use 'all', a number of entries (1000), an age (7d) or both (1000,7d).");

        return policy ?? RetentionPolicy.KeepAll;
    }

    static RetentionPolicy? Parse(string text)
    {
        if (text == "all")
            return RetentionPolicy.KeepAll;

        long? entries = null;
        TimeSpan? age = null;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && entries == null)
                entries = count;
            else if (CliOptions.TryParseAgo(part, out var duration) && age == null)
                age = duration;
            else
                return null;
        }

        return RetentionPolicy.Limit(entries, age);
    }
}
