namespace MassTransit.RedisStreams.Cli.Commands;

using System.Collections.Generic;
using System.CommandLine;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Operations;
using Redis;
using Spectre.Console;


/// <summary>
/// <c>redis-streams move</c>: selected entries back to where they were sent, or to another queue; <c>requeue</c> is the same for
/// an endpoint's whole error or skipped stream.
/// </summary>
static class MoveCommand
{
    public static Command Create()
    {
        var stream = PeekCommand.StreamArgument("The stream to move entries from");
        var selection = new SelectionOptions("How many entries at most; all selected without it.", withTo: false);
        var to = new Option<string?>("--to")
        {
            Description = "The queue to move them to (orders, queue:orders); without it each goes back to where it was sent: the queue it was "
                + "read from, or its endpoint's queue when it came from an event stream."
        };
        var dryRun = CliOptions.DryRun();
        var yes = CliOptions.Yes();

        var command = new Command("move", "Moves entries — failed or skipped messages, or any queue's — to where they were sent or to another "
            + "queue, as they were sent (without the headers the move to _error or _skipped added), oldest first. Each entry is appended "
            + "and deleted in one step where both streams are in one hash slot (always on one Redis); otherwise appended first, so an "
            + "interruption leaves a copy in both, never in neither. --until ends the window here (it takes entry IDs too).")
        {
            stream, to, dryRun, yes
        };
        selection.AddTo(command);

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, token) =>
        {
            var from = await session.ResolveExisting(parse.GetRequiredValue(stream)).ConfigureAwait(false);
            var target = parse.GetValue(to) is { } name ? await session.ResolveExisting(name, RedisStreamsStreamKind.Queue).ConfigureAwait(false) : null;

            return await Run(parse, session, from, selection.Get(parse), target, dryRun, yes, "Moved", token).ConfigureAwait(false);
        }, cancellationToken));

        return command;
    }

    /// <summary>Plans, asks, moves and reports: for move and requeue alike.</summary>
    public static async Task<int> Run(ParseResult parse, CliSession session, OperatedStream from, EntrySelection selection, OperatedStream? target,
        Option<bool> dryRun, Option<bool> yes, string verb, CancellationToken cancellationToken)
    {
        var plan = await session.Operations.PlanMove(from, selection, target, cancellationToken).ConfigureAwait(false);
        var byTarget = plan.Moves.GroupBy(x => x.Target?.DisplayName ?? "").ToDictionary(x => x.Key, x => x.LongCount());
        var routable = plan.Moves.Where(x => x.Target != null).ToArray();
        var unroutable = plan.Moves.Where(x => x.Target == null).Select(x => x.Id).ToArray();

        if (parse.GetValue(dryRun) || routable.Length == 0)
        {
            if (CliOutput.IsJson(parse))
            {
                CliOutput.WriteJson(new MoveDocument(from.DisplayName, true, plan.Atomic,
                    routable.Select(x => new MoveItem(x.Id, x.Target!.DisplayName, null)).ToArray(), unroutable, 0));
            }
            else
            {
                WritePlan(from, byTarget, plan.Atomic);
                AnsiConsole.WriteLine(routable.Length == 0
                    ? $"No selected entry of {from.DisplayName} can be moved: nothing changed."
                    : $"Dry run: would move {routable.Length} entries from {from.DisplayName}; nothing changed.");
            }

            return ExitCodes.Done;
        }

        var question = byTarget.Count(x => x.Key.Length > 0) == 1
            ? $"Move {routable.Length} entries from {from.DisplayName} to {byTarget.Keys.First(x => x.Length > 0)}?"
            : $"Move {routable.Length} entries from {from.DisplayName} to {byTarget.Count(x => x.Key.Length > 0)} queues?";
        if (!CliOutput.IsJson(parse))
            WritePlan(from, byTarget, plan.Atomic);
        if (!CliOutput.Confirm(parse, yes, question))
            return ExitCodes.Done;

        // What was confirmed is what is moved: the entries planned, not those that arrived since.
        var planned = selection with { Ids = routable.Select(x => StreamEntryId.Parse(x.Id)).ToArray(), Limit = null };
        MoveResult? result = null;
        await CliOutput.Progress(parse, $"move {from.DisplayName}", routable.Length, async progress =>
            result = await session.Operations.Move(from, planned, target, progress, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);

        if (CliOutput.IsJson(parse))
        {
            CliOutput.WriteJson(new MoveDocument(from.DisplayName, false, plan.Atomic,
                result!.Moved.Select(x => new MoveItem(x.Id, x.Target.DisplayName, x.NewId)).ToArray(), unroutable, result.Missing));
            return ExitCodes.Done;
        }

        var targets = string.Join(", ", result!.Moved.GroupBy(x => x.Target.DisplayName).Select(x => $"{x.Count()} to {x.Key}"));
        AnsiConsole.WriteLine(result.Moved.Count == 0 ? $"{verb} 0 messages from {from.DisplayName}." : $"{verb} {result.Moved.Count} messages from {from.DisplayName}: {targets}.");
        if (result.Missing > 0)
            AnsiConsole.WriteLine($"{result.Missing} selected entries were gone by then (moved or deleted by someone else).");
        if (unroutable.Length > 0)
            AnsiConsole.MarkupLine($"[yellow]{unroutable.Length} entries stay: where they were sent is not known; move them with --to.[/]");

        return ExitCodes.Done;
    }

    static void WritePlan(OperatedStream from, Dictionary<string, long> byTarget, bool atomic)
    {
        var table = new Table().Border(TableBorder.Simple).AddColumns("From", "To", "Entries");
        foreach (var (target, count) in byTarget)
            table.AddRow(Markup.Escape(from.DisplayName), target.Length == 0 ? "[yellow](unknown: stays)[/]" : Markup.Escape(target), StreamsCommand.Count(count));

        AnsiConsole.Write(table);
        if (!atomic)
            AnsiConsole.MarkupLine("[yellow]The streams are in different hash slots of a Redis Cluster: each entry is appended first and deleted after, so an interruption can leave a copy in both.[/]");
    }


    sealed record MoveDocument(string Stream, bool DryRun, bool Atomic, IReadOnlyList<MoveItem> Entries, IReadOnlyList<string> Unroutable, long Missing);


    sealed record MoveItem(string Id, string Target, string? NewId);
}
