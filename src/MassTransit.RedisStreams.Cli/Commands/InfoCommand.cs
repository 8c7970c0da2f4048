namespace MassTransit.RedisStreams.Cli.Commands;

using System.CommandLine;
using System.Globalization;
using History;
using Spectre.Console;


/// <summary><c>redis-streams info</c>: one stream, its groups and their consumers.</summary>
static class InfoCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The entity name of a message type (AuctionEnded), or with --queue an endpoint's name." };
        var queue = new Option<bool>("--queue") { Description = "Describe the queue stream of the endpoint <name> instead." };

        var command = new Command("info", "Describes one stream: length, first and last entry, memory, and each consumer group with its "
            + "pending entries, lag, last delivered entry and consumers.") { name, queue };

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, _) =>
        {
            var streamName = parse.GetRequiredValue(name);
            var info = parse.GetValue(queue)
                ? await new StreamInspector(session.Redis).Describe(session.Redis.Keys.Queue(streamName), streamName, RedisStreamKind.Queue)
                    .ConfigureAwait(false)
                : await session.History.GetStreamInfo(streamName).ConfigureAwait(false);

            if (!info.Exists && info.ScheduledCount == 0)
                throw new CliException(ExitCodes.NotFound, $"there is no stream {info.StreamKey}.");

            var grid = new Grid().AddColumns(2);
            grid.AddRow("Stream", Markup.Escape(info.StreamKey));
            grid.AddRow("Kind", info.Kind.ToString().ToLowerInvariant());
            grid.AddRow("Length", StreamsCommand.Count(info.Length));
            grid.AddRow("First", $"{info.FirstEntryId} {StreamsCommand.Time(info.FirstEntryTime)}");
            grid.AddRow("Last", $"{info.LastEntryId} {StreamsCommand.Time(info.LastEntryTime)}");
            grid.AddRow("Memory", StreamsCommand.Bytes(info.MemoryBytes));
            grid.AddRow("Scheduled", info.ScheduledCount == 0 ? "none" : $"{StreamsCommand.Count(info.ScheduledCount)}, next due {StreamsCommand.Time(info.NextScheduledTime)}");
            AnsiConsole.Write(grid);

            var groups = new Table().Border(TableBorder.Simple).AddColumns("Group", "Pending", "Lag", "Last delivered", "Consumer", "Its pending", "Idle");
            foreach (var group in info.Groups)
            {
                var lag = group.Lag is { } value ? StreamsCommand.Count(value) : "?";
                if (group.Consumers.Count == 0)
                    groups.AddRow(Markup.Escape(group.Name), StreamsCommand.Count(group.Pending), lag, group.LastDeliveredId, "", "", "");

                foreach (var consumer in group.Consumers)
                {
                    groups.AddRow(Markup.Escape(group.Name), StreamsCommand.Count(group.Pending), lag, group.LastDeliveredId, Markup.Escape(consumer.Name),
                        StreamsCommand.Count(consumer.Pending), consumer.Idle.ToString(@"d\.hh\:mm\:ss", CultureInfo.InvariantCulture));
                }
            }

            AnsiConsole.Write(groups);
            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }
}
