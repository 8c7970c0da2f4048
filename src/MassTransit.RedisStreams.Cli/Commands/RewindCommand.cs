namespace MassTransit.RedisStreams.Cli.Commands;

using System.CommandLine;
using Spectre.Console;


/// <summary><c>redis-streams rewind</c>: moves an endpoint in the log.</summary>
static class RewindCommand
{
    public static Command Create()
    {
        var endpoint = new Argument<string>("endpoint") { Description = "The receive endpoint to move." };
        var to = CliOptions.Position("--to", "The first event it delivers next; an earlier one to process again, a later one to skip.");
        to.Required = true;

        var command = new Command("rewind", "Moves an endpoint in every event stream it reads, back to process events again (to rebuild "
            + "state) or forward to skip a backlog. Safe while the endpoint runs.") { endpoint, to };

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, token) =>
        {
            var name = parse.GetRequiredValue(endpoint);
            var moved = await session.History.Rewind(name, parse.GetValue(to)!.Value, token).ConfigureAwait(false);

            if (CliOutput.IsJson(parse))
            {
                CliOutput.WriteJson(new { endpoint = name, streams = System.Linq.Enumerable.Select(moved, x => new { stream = x.Key, lastDeliveredId = x.Value }) });
                return ExitCodes.Done;
            }

            var table = new Table().Border(TableBorder.Simple).AddColumns("Stream", "Now after");
            foreach (var (stream, position) in moved)
                table.AddRow(Markup.Escape(stream), position);

            AnsiConsole.Write(table);
            AnsiConsole.WriteLine($"Moved {name} in {moved.Count} streams.");
            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }
}
