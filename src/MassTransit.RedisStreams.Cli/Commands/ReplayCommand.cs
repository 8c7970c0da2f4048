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
        var dryRun = CliOptions.DryRun();
        var yes = CliOptions.Yes();

        var command = new Command("replay", "Delivers past events of a message type again to one endpoint, marked as replays, through its "
            + "normal consume pipeline: appends copies to the endpoint's queue stream. Nothing is appended to the event stream.")
        {
            entity, endpoint, from, to, count, dryRun, yes
        };

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, token) =>
        {
            var entityName = parse.GetRequiredValue(entity);
            var target = parse.GetRequiredValue(endpoint);
            var plan = await session.History.PlanReplayStored(entityName, target, parse.GetValue(from), parse.GetValue(to), parse.GetValue(count), token)
                .ConfigureAwait(false);
            var queue = session.Operations.Resolver.Queue(target).DisplayName;

            if (parse.GetValue(dryRun) || plan.Count == 0)
            {
                if (CliOutput.IsJson(parse))
                    CliOutput.WriteJson(new ReplayDocument(entityName, target, queue, true, plan.Count, plan.First, plan.Last, 0));
                else
                {
                    AnsiConsole.WriteLine(plan.Count == 0
                        ? $"No {entityName} event is in the window: nothing changed."
                        : $"Dry run: would append {plan.Count} {entityName} events ({plan.First} .. {plan.Last}) to {queue}; nothing changed.");
                }

                return ExitCodes.Done;
            }

            if (!CliOutput.Confirm(parse, yes, $"Append {plan.Count} {entityName} events ({plan.First} .. {plan.Last}) to {queue}?"))
                return ExitCodes.Done;

            // What was confirmed is what is replayed: up to the last event planned, not those appended since.
            long replayed = 0;
            await CliOutput.Progress(parse, $"replay to {target}", Math.Max(1, plan.Count), async progress =>
                replayed = await session.History.ReplayStored(entityName, target, parse.GetValue(from), RedisStreamsPosition.FromId(plan.Last!),
                    plan.Count, progress, token).ConfigureAwait(false)).ConfigureAwait(false);

            if (CliOutput.IsJson(parse))
                CliOutput.WriteJson(new ReplayDocument(entityName, target, queue, false, plan.Count, plan.First, plan.Last, replayed));
            else
                AnsiConsole.WriteLine($"Replayed {replayed} {entityName} events to {target}.");
            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }

    sealed record ReplayDocument(string Entity, string Endpoint, string Queue, bool DryRun, long Events, string? FirstId, string? LastId, long Replayed);


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
