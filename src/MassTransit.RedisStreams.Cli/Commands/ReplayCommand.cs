namespace MassTransit.RedisStreams.Cli.Commands;

using System;
using System.CommandLine;
using System.Threading.Tasks;
using Spectre.Console;


/// <summary><c>redis-streams replay</c>: past events again, to one endpoint.</summary>
static class ReplayCommand
{
    public static Command Create()
    {
        var entity = new Argument<string>("entity") { Description = "The entity name of the message type, e.g. AuctionEnded." };
        var endpoint = new Option<string>("--endpoint", "-e") { Description = "The receive endpoint to replay to; it must consume the type.", Required = true };
        var from = CliOptions.Position("--from", "The oldest event to replay; the beginning without it.");
        var to = CliOptions.Position("--to", "The newest event to replay; the newest now without it.");
        var count = new Option<long?>("--count", "-n") { Description = "How many events at most." }.AtLeastOne();

        var command = new Command("replay", "Delivers past events of a message type again to one endpoint, marked as replays, through its "
            + "normal consume pipeline. Nothing is appended to the event stream.") { entity, endpoint, from, to, count };


        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, token) =>
        {
            var entityName = parse.GetRequiredValue(entity);
            var target = parse.GetRequiredValue(endpoint);

            var total = (await session.History.GetStreamInfo(entityName).ConfigureAwait(false)).Length;
            long replayed = 0;

            await CliOutput.Progress(parse, $"replay to {target}", Math.Max(1, parse.GetValue(count) ?? total), async progress =>
                replayed = await session.History.ReplayStored(entityName, target, parse.GetValue(from), parse.GetValue(to), parse.GetValue(count),
                    progress, token).ConfigureAwait(false)).ConfigureAwait(false);

            if (CliOutput.IsJson(parse))
                CliOutput.WriteJson(new { entity = entityName, endpoint = target, replayed });
            else
                AnsiConsole.WriteLine($"Replayed {replayed} {entityName} events to {target}.");
            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }

    public static Progress Progress() => AnsiConsole.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(),
        new PercentageColumn(), new RemainingTimeColumn());
}


/// <summary>Reports on the caller's thread, so that the bar moves with each page.</summary>
sealed class InlineProgress :
    IProgress<long>
{
    readonly Action<long> _report;

    public InlineProgress(Action<long> report)
    {
        _report = report;
    }

    public void Report(long value) => _report(value);
}
