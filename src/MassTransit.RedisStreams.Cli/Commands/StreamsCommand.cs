namespace MassTransit.RedisStreams.Cli.Commands;

using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.Linq;
using Spectre.Console;


/// <summary><c>redis-streams streams</c>: every stream of the bus as a table.</summary>
static class StreamsCommand
{
    public static Command Create()
    {
        var watch = CliOptions.Watch();
        var command = new Command("streams", "Lists every stream of the bus — event streams, queues, error and skipped streams — with length, "
            + "consumer groups, pending entries, lag, and the messages scheduled for it. An error stream with entries is red, lag yellow.") { watch };

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, token) =>
        {
            var prefix = string.IsNullOrEmpty(session.KeyPrefix) ? "no key prefix" : "key prefix " + session.KeyPrefix;
            if (parse.GetValue(watch) is { } interval)
            {
                return await CliOutput.Watch(parse, interval, async () =>
                {
                    var now = await session.History.GetOverview(token).ConfigureAwait(false);
                    return (View(now, prefix), now);
                }, token).ConfigureAwait(false);
            }

            var streams = await session.History.GetOverview(token).ConfigureAwait(false);
            if (CliOutput.IsJson(parse))
                CliOutput.WriteJson(streams);
            else
                AnsiConsole.Write(View(streams, prefix));

            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }

    static Rows View(IReadOnlyList<RedisStreamsStreamInfo> streams, string prefix)
    {
        var table = new Table().Border(TableBorder.Simple)
            .AddColumns("Kind", "Name", "Length", "Groups", "Pending", "Lag", "First", "Last", "Memory", "Scheduled", "Next due");
        foreach (var stream in streams)
        {
            var maxLag = stream.Groups.Count == 0 || stream.Groups.Any(x => x.Lag == null) ? (long?)null : stream.Groups.Max(x => x.Lag!.Value);
            var lag = stream.Groups.Count == 0 ? "" : maxLag is not { } value ? "?" : value > 0 ? $"[yellow]{Count(value)}[/]" : "0";
            var failed = stream.Kind == RedisStreamsStreamKind.Error && stream.Length > 0;

            table.AddRow(failed ? "[red]error[/]" : Markup.Escape(stream.Kind.ToString().ToLowerInvariant()),
                failed ? $"[red]{Markup.Escape(stream.Name)}[/]"
                : stream.Partitions.Count > 0 ? Markup.Escape(stream.Name) + " [grey](" + Markup.Escape(Operations.ConsumerGroups.PartitionsLabel(stream)) + ")[/]"
                : Markup.Escape(stream.Name), failed ? $"[red]{Count(stream.Length)}[/]" : Count(stream.Length),
                stream.Groups.Count.ToString(CultureInfo.InvariantCulture), Count(stream.Groups.Sum(x => x.Pending)), lag,
                Time(stream.FirstEntryTime), Time(stream.LastEntryTime), Bytes(stream.MemoryBytes),
                stream.ScheduledCount == 0 ? "" : Count(stream.ScheduledCount), Time(stream.NextScheduledTime));
        }

        return new Rows(table, new Text($"{streams.Count} streams under {prefix}.\n"));
    }

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "";

    public static string Bytes(long? bytes) => bytes switch
    {
        null => "",
        < 1024 => bytes.Value.ToString(CultureInfo.InvariantCulture) + " B",
        < 1024 * 1024 => (bytes.Value / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " KB",
        _ => (bytes.Value / 1024.0 / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " MB"
    };
}
