namespace MassTransit.RedisStreams.Cli.Commands;

using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using RedisStreams.Redis;
using RedisStreams.Retention;
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
        var dryRun = CliOptions.DryRun();
        var yes = CliOptions.Yes();
        var deleteUnarchived = new Option<bool>("--delete-unarchived")
        {
            Description = "Trim streams that retention archives without --archive: what is removed from them is deleted, not archived."
        };

        var command = new Command("trim", "Trims every stream by its retention policy now, never removing an entry a consumer group has not "
            + "had delivered and acknowledged, and reports what it removed; like the background pass, it also removes the groups of "
            + "endpoints that are gone, host records nothing names and delayed streams nothing waits for. A policy is 'all' (keep "
            + "everything), a number of entries (1000), an age (7d, 12h), or both (1000,7d). A stream that retention archives (it has an "
            + "archive mark) is trimmed only with --archive, which archives what is removed first, or with --delete-unarchived.")
        {
            events, faults, queues, deadLetters, dryRun, yes, deleteUnarchived
        };

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, token) =>
        {
            var admin = new RedisStreamsAdmin(session.Multiplexer, session.KeyPrefix, retention: r =>
            {
                r.Events = parse.GetRequiredValue(events);
                r.Faults = parse.GetRequiredValue(faults);
                r.Queues = parse.GetRequiredValue(queues);
                r.DeadLetters = parse.GetRequiredValue(deadLetters);

                // With --archive, what the event stream policies remove is archived first, as the bus does.
                if (session.Archive is { } archive)
                    r.Archive(archive);
            });

            var plan = await admin.PlanTrim(token).ConfigureAwait(false);

            // A stream that retention archives keeps its history in the archive: trimmed without it, what is removed would be
            // gone from both.
            if (session.Archive == null && !parse.GetValue(deleteUnarchived) && !parse.GetValue(dryRun))
            {
                var keys = new StreamKeys(session.KeyPrefix);
                var database = session.Multiplexer.GetDatabase();
                var trimmed = plan.Streams.Where(x => x.Trim.Removed > 0).Select(x => x.Stream).ToList();
                var marked = await Task.WhenAll(trimmed.Select(x => database.KeyExistsAsync(keys.Archived(x)))).ConfigureAwait(false);
                var archived = trimmed.Where((_, i) => marked[i]).ToList();
                if (archived.Count > 0)
                {
                    throw new CliException(ExitCodes.Usage, $"{string.Join(", ", archived)} {(archived.Count == 1 ? "is" : "are")} archived by "
                        + "retention: trimmed without the archive, the entries removed would be deleted and never archived. Pass --archive "
                        + "<directory or s3://bucket/prefix> (where the bus archives) to archive them first, or --delete-unarchived to delete them.");
                }
            }
            var nothing = plan.Streams.All(x => x.Trim.Removed == 0) && plan.RemovedGroups.Count == 0 && plan.RemovedHostRecords == 0
                && plan.UnheldHostRecords == 0 && plan.RemovedDelayedStreams == 0;
            if (parse.GetValue(dryRun) || nothing)
            {
                WritePlan(parse, plan, nothing);
                return ExitCodes.Done;
            }

            var entries = plan.Streams.Sum(x => x.Trim.Removed);
            var more = plan.Streams.Any(x => x.Trim.AtLeast) ? "at least " : "";
            if (!CliOutput.IsJson(parse))
                WritePlan(parse, plan, nothing: false, dryRun: false);
            if (!CliOutput.Confirm(parse, yes, $"Trim {plan.Streams.Count(x => x.Trim.Removed > 0)} streams ({more}{entries} entries) and remove what the plan above lists?"))
                return ExitCodes.Done;

            RedisStreamsTrimReport? report = null;
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
            foreach (var (stream, archived) in report.Archived)
                AnsiConsole.WriteLine($"Archived {StreamsCommand.Count(archived)} entries of {stream} first, to {session.Archive!.Location}");
            foreach (var group in report.RemovedGroups)
                AnsiConsole.WriteLine($"Removed the group of a temporary endpoint that is gone: {group}");

            AnsiConsole.WriteLine($"Trimmed {report.StreamsExamined} streams: removed {report.TotalRemoved} entries.");
            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }

    /// <summary>What the pass would do: per stream, then the rest of the pass; a JSON document with <c>dryRun: true</c>.</summary>
    static void WritePlan(ParseResult parse, TrimPlan plan, bool nothing, bool dryRun = true)
    {
        if (CliOutput.IsJson(parse))
        {
            CliOutput.WriteJson(new
            {
                dryRun = true,
                streamsExamined = plan.StreamsExamined,
                streams = plan.Streams.Select(x => new
                {
                    stream = x.Stream, policy = x.Policy.ToString(), wouldRemove = x.Trim.Removed, atLeast = x.Trim.AtLeast, downToId = x.Trim.MinId,
                    downToLength = x.Trim.MaxLength, keptForGroup = x.Trim.KeptFor, lengthLimitUncounted = x.Trim.Uncounted
                }),
                totalWouldRemove = plan.Streams.Sum(x => x.Trim.Removed),
                wouldRemoveGroups = plan.RemovedGroups,
                wouldRemoveHostRecords = plan.RemovedHostRecords,
                wouldHoldUnheldHostRecords = plan.UnheldHostRecords,
                wouldRemoveDelayedStreams = plan.RemovedDelayedStreams
            });
            return;
        }

        var table = new Table().Border(TableBorder.Simple).AddColumns("Stream", "Policy", "Would remove", "Down to", "Kept for group");
        foreach (var stream in plan.Streams)
        {
            var trim = stream.Trim;
            var removed = trim.AtLeast ? $"more than {StreamsCommand.Count(trim.Removed - 1)}" : StreamsCommand.Count(trim.Removed);
            var downTo = trim.MinId != null ? "ID " + trim.MinId : trim.MaxLength is { } length ? $"length {length}" : "";
            var kept = trim.KeptFor ?? "";
            if (trim.Uncounted)
                kept += (kept.Length > 0 ? "; " : "") + "by length: not known without reading more than 1000 entries, left for now";
            table.AddRow(Markup.Escape(stream.Stream), Markup.Escape(stream.Policy.ToString()), removed, Markup.Escape(downTo), Markup.Escape(kept));
        }

        AnsiConsole.Write(table);
        foreach (var group in plan.RemovedGroups)
            AnsiConsole.WriteLine($"Would remove the group of an endpoint that is gone: {group}");
        if (plan.RemovedHostRecords > 0)
            AnsiConsole.WriteLine($"Would remove {plan.RemovedHostRecords} host records no entry names (each checked again as it goes).");
        if (plan.UnheldHostRecords > 0)
            AnsiConsole.WriteLine($"Would give {plan.UnheldHostRecords} host records stored without a hold one, so that a later pass can remove them.");
        if (plan.RemovedDelayedStreams > 0)
            AnsiConsole.WriteLine($"Would forget {plan.RemovedDelayedStreams} delayed streams nothing waits for.");

        var total = plan.Streams.Sum(x => x.Trim.Removed);
        var more = plan.Streams.Any(x => x.Trim.AtLeast) ? "at least " : "";
        if (nothing)
            AnsiConsole.WriteLine($"Looked at {plan.StreamsExamined} streams: nothing to trim or remove; nothing changed.");
        else if (dryRun)
            AnsiConsole.WriteLine($"Dry run: looked at {plan.StreamsExamined} streams, would remove {more}{total} entries; nothing changed.");
    }

    static Option<RedisStreamsRetentionPolicy> Policy(string name, string description, string defaultValue) => new(name)
    {
        Description = description + $" Default: {defaultValue}.",
        DefaultValueFactory = _ => Parse(defaultValue)!,
        CustomParser = result => ParsePolicy(result)
    };

    static RedisStreamsRetentionPolicy ParsePolicy(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        var policy = Parse(text);
        if (policy == null)
            result.AddError($"'{text}' is not a retention policy: use 'all', a number of entries (1000), an age (7d) or both (1000,7d).");

        return policy ?? RedisStreamsRetentionPolicy.KeepAll;
    }

    static RedisStreamsRetentionPolicy? Parse(string text)
    {
        if (text == "all")
            return RedisStreamsRetentionPolicy.KeepAll;

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

        return RedisStreamsRetentionPolicy.Limit(entries, age);
    }
}
