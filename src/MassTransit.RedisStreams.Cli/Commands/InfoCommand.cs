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

            if (CliOutput.IsJson(parse))
                CliOutput.WriteJson(info);
            else
                AnsiConsole.Write(View(info));

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

    static Rows View(RedisStreamsStreamInfo info)
    {
        var grid = new Grid().AddColumns(2);
        grid.AddRow("Stream", Markup.Escape(info.StreamKey));
        grid.AddRow("Kind", info.Kind.ToString().ToLowerInvariant());
        grid.AddRow("Length", info.Kind is RedisStreamsStreamKind.Error && info.Length > 0 ? $"[red]{StreamsCommand.Count(info.Length)}[/]" : StreamsCommand.Count(info.Length));
        grid.AddRow("First", $"{info.FirstEntryId} {StreamsCommand.Time(info.FirstEntryTime)}");
        grid.AddRow("Last", $"{info.LastEntryId} {StreamsCommand.Time(info.LastEntryTime)}");
        grid.AddRow("Memory", StreamsCommand.Bytes(info.MemoryBytes));
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
