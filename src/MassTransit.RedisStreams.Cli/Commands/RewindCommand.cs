namespace MassTransit.RedisStreams.Cli.Commands;

using System.CommandLine;
using System.Linq;
using Spectre.Console;
using StackExchange.Redis;


/// <summary><c>redis-streams rewind</c>: moves an endpoint in the log.</summary>
static class RewindCommand
{
    public static Command Create()
    {
        var endpoint = new Argument<string>("endpoint") { Description = "The receive endpoint to move." };
        var to = CliOptions.Position("--to", "The first event it delivers next; an earlier one to process again, a later one to skip.");
        to.Required = true;
        var dryRun = CliOptions.DryRun();
        var yes = CliOptions.Yes();

        var command = new Command("rewind", "Moves an endpoint in every event stream it reads, back to process events again (to rebuild "
            + "state) or forward to skip a backlog. Safe while the endpoint runs.") { endpoint, to, dryRun, yes };

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, token) =>
        {
            var name = parse.GetRequiredValue(endpoint);
            var first = parse.GetValue(to)!.Value;
            var plan = await session.History.PlanRewind(name, first, token).ConfigureAwait(false);

            if (parse.GetValue(dryRun))
            {
                if (CliOutput.IsJson(parse))
                {
                    CliOutput.WriteJson(new
                    {
                        endpoint = name, dryRun = true,
                        streams = plan.Select(x => new { stream = x.Stream.ToString(), lastDeliveredId = x.Now, wouldSetTo = x.Position.ToString() })
                    });
                    return ExitCodes.Done;
                }

                var planTable = new Table().Border(TableBorder.Simple).AddColumns("Stream", "Now after", "Would be after");
                foreach (var (stream, now, target) in plan)
                    planTable.AddRow(Markup.Escape(stream.ToString()), Markup.Escape(now ?? ""), Markup.Escape(Describe(target)));

                AnsiConsole.Write(planTable);
                AnsiConsole.WriteLine($"Dry run: would move {name} in {plan.Count} streams; nothing changed.");
                return ExitCodes.Done;
            }

            if (!CliOutput.Confirm(parse, yes, $"Move {name} in {plan.Count} streams to after {Describe(plan[0].Position)}?"))
                return ExitCodes.Done;

            var moved = await session.History.Rewind(name, first, token).ConfigureAwait(false);

            if (CliOutput.IsJson(parse))
            {
                CliOutput.WriteJson(new { endpoint = name, dryRun = false, streams = moved.Select(x => new { stream = x.Key, lastDeliveredId = x.Value }) });
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

    static string Describe(RedisValue position) => position == "$" ? "$ (the newest entry)" : position == "0" ? "0 (the beginning)" : position.ToString();
}
