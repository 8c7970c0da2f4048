namespace MassTransit.RedisStreams.Cli.Commands;

using System;
using System.CommandLine;
using System.Globalization;
using System.Linq;
using Spectre.Console;


/// <summary><c>redis-streams streams</c>: every stream of the bus as a table.</summary>
static class StreamsCommand
{
    public static Command Create()
    {
        var command = new Command("streams", "Lists every stream of the bus — event streams, queues, error and skipped streams — with length, "
            + "consumer groups, pending entries, lag, and the messages scheduled for it.");

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, token) =>
        {
            var streams = await session.History.GetOverview(token).ConfigureAwait(false);

            var table = new Table().Border(TableBorder.Simple)
                .AddColumns("Kind", "Name", "Length", "Groups", "Pending", "Lag", "First", "Last", "Memory", "Scheduled", "Next due");
            foreach (var stream in streams)
            {
                var lag = stream.Groups.Count == 0 ? "" : stream.Groups.Any(x => x.Lag == null) ? "?" : Count(stream.Groups.Max(x => x.Lag!.Value));

                table.AddRow(Markup.Escape(stream.Kind.ToString().ToLowerInvariant()), Markup.Escape(stream.Name), Count(stream.Length),
                    stream.Groups.Count.ToString(CultureInfo.InvariantCulture), Count(stream.Groups.Sum(x => x.Pending)), lag,
                    Time(stream.FirstEntryTime), Time(stream.LastEntryTime), Bytes(stream.MemoryBytes),
                    stream.ScheduledCount == 0 ? "" : Count(stream.ScheduledCount), Time(stream.NextScheduledTime));
            }

            AnsiConsole.Write(table);
            AnsiConsole.WriteLine($"{streams.Count} streams under {(string.IsNullOrEmpty(session.KeyPrefix) ? "no key prefix" : "key prefix " + session.KeyPrefix)}.");

            return ExitCodes.Done;
        }, cancellationToken));

        return command;
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
