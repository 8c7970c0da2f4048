namespace MassTransit.RedisStreams.Cli.Commands;

using System;
using System.CommandLine;
using System.Globalization;
using Operations;
using Spectre.Console;
using Spectre.Console.Rendering;


/// <summary><c>redis-streams info</c>: one stream, its groups and their consumers.</summary>
static class InfoCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name")
        {
            Description = "The stream: the entity name of a message type (AuctionEnded), or any spelling peek takes (events:AuctionEnded, "
                + "queue:orders_error, shop:queue:orders, error:orders)."
        };
        var queue = new Option<bool>("--queue") { Description = "A bare <name> is an endpoint's name: describe its queue stream." };
        var watch = CliOptions.Watch();

        var command = new Command("info", "Describes one stream: length, first and last entry, memory, and each consumer group with its "
            + "pending entries, lag, last delivered entry and consumers.") { name, queue, watch };

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, token) =>
        {
            var stream = await Resolve(session, parse.GetRequiredValue(name), parse.GetValue(queue)).ConfigureAwait(false);

            var info = await session.Groups.Describe(stream).ConfigureAwait(false);
            if (!info.Exists && info.ScheduledCount == 0)
                throw new CliException(ExitCodes.NotFound, $"there is no stream {info.StreamKey}.");

            if (parse.GetValue(watch) is { } interval)
            {
                return await CliOutput.Watch(parse, interval, async () =>
                {
                    var now = await session.Groups.Describe(stream).ConfigureAwait(false);
                    return (View(now), now);
                }, token).ConfigureAwait(false);
            }

            var archived = await ArchivedPart(session, stream, token).ConfigureAwait(false);
            if (CliOutput.IsJson(parse))
                CliOutput.WriteJson(archived == null ? info : new { stream = info, archive = archived });
            else
                AnsiConsole.Write(View(info, archived));

            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }

    /// <summary>
    /// A bare name is an event stream's entity name unless --queue says it is an endpoint's, as before; every other spelling is
    /// the resolver's.
    /// </summary>
    static async System.Threading.Tasks.Task<OperatedStream> Resolve(CliSession session, string name, bool queue)
    {
        if (queue)
            return await session.Operations.Resolver.Resolve(name, RedisStreamsStreamKind.Queue).ConfigureAwait(false);

        try
        {
            return await session.Operations.Resolver.Resolve(name).ConfigureAwait(false);
        }
        catch (ArgumentException)
        {
            return await session.Operations.Resolver.Resolve(name, RedisStreamsStreamKind.Events).ConfigureAwait(false);
        }
    }

    /// <summary>Where the stream's archived part is, with --archive: its segments, their range and size, and the archive mark.</summary>
    public sealed record ArchivedInfo(string Location, int Segments, long Entries, long Bytes, string? FirstEntryId, string? LastEntryId,
        string? ArchivedUpTo);

    static async System.Threading.Tasks.Task<ArchivedInfo?> ArchivedPart(CliSession session, OperatedStream stream, System.Threading.CancellationToken token)
    {
        if (session.Archive is not { } archive || stream.Kind is not (RedisStreamsStreamKind.Events or RedisStreamsStreamKind.Faults))
            return null;

        var segments = await archive.GetSegments(stream.Key.ToString(), token).ConfigureAwait(false);
        var mark = await session.Redis.Archives.Get(stream.Key).ConfigureAwait(false);
        long entries = 0, bytes = 0;
        foreach (var segment in segments)
        {
            entries += segment.Count;
            bytes += segment.Bytes;
        }

        return new ArchivedInfo(archive.Location, segments.Count, entries, bytes, segments.Count > 0 ? segments[0].FirstEntryId : null,
            segments.Count > 0 ? segments[^1].LastEntryId : null, mark?.ToString());
    }

    static Rows View(RedisStreamsStreamInfo info, ArchivedInfo? archived = null)
    {
        var grid = new Grid().AddColumns(2);
        grid.AddRow("Stream", Markup.Escape(info.StreamKey));
        grid.AddRow("Kind", info.Kind.ToString().ToLowerInvariant());
        grid.AddRow("Length", info.Kind is RedisStreamsStreamKind.Error && info.Length > 0 ? $"[red]{StreamsCommand.Count(info.Length)}[/]" : StreamsCommand.Count(info.Length));
        grid.AddRow("First", $"{info.FirstEntryId} {StreamsCommand.Time(info.FirstEntryTime)}");
        grid.AddRow("Last", $"{info.LastEntryId} {StreamsCommand.Time(info.LastEntryTime)}");
        grid.AddRow("Memory", StreamsCommand.Bytes(info.MemoryBytes));
        if (archived != null)
        {
            grid.AddRow("Archive", archived.Segments == 0
                ? $"nothing archived, at {Markup.Escape(archived.Location)}"
                : $"{StreamsCommand.Count(archived.Entries)} entries in {archived.Segments} segments, {archived.FirstEntryId}..{archived.LastEntryId}, "
                + $"{StreamsCommand.Bytes(archived.Bytes)}, at {Markup.Escape(archived.Location)}");
            grid.AddRow("Redis", info.Length == 0 ? "no entries" : $"{StreamsCommand.Count(info.Length)} entries, {info.FirstEntryId}..{info.LastEntryId}"
                + (archived.ArchivedUpTo is { } mark ? $" (archived up to {mark})" : ""));
        }

        grid.AddRow("Scheduled", info.ScheduledCount == 0 ? "none" : $"{StreamsCommand.Count(info.ScheduledCount)}, next due {StreamsCommand.Time(info.NextScheduledTime)}");

        return new Rows(grid, GroupsTable(info));
    }

    /// <summary>The groups of a stream with their consumers; lag in yellow.</summary>
    public static Table GroupsTable(RedisStreamsStreamInfo info)
    {
        var groups = new Table().Border(TableBorder.Simple).AddColumns("Group", "Pending", "Lag", "Last delivered", "Consumer", "Its pending", "Idle");
        foreach (var group in info.Groups)
        {
            var lag = group.Lag is { } value ? value > 0 ? $"[yellow]{StreamsCommand.Count(value)}[/]" : "0" : "?";
            var pending = StreamsCommand.Count(group.Pending);
            if (group.Consumers.Count == 0)
                groups.AddRow(Markup.Escape(group.Name), pending, lag, group.LastDeliveredId, "", "", "");

            foreach (var consumer in group.Consumers)
            {
                groups.AddRow(Markup.Escape(group.Name), pending, lag, group.LastDeliveredId, Markup.Escape(consumer.Name),
                    StreamsCommand.Count(consumer.Pending), consumer.Idle.ToString(@"d\.hh\:mm\:ss", CultureInfo.InvariantCulture));
            }
        }

        return groups;
    }
}
