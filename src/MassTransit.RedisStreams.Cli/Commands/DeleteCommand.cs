namespace MassTransit.RedisStreams.Cli.Commands;

using System.Collections.Generic;
using System.CommandLine;
using System.Linq;
using Redis;
using Spectre.Console;


/// <summary><c>redis-streams delete</c>: removes selected entries from a stream (XDEL).</summary>
static class DeleteCommand
{
    public static Command Create()
    {
        var stream = PeekCommand.StreamArgument("The stream to delete entries from");
        var selection = new SelectionOptions("How many entries at most; all selected without it.");
        var dryRun = CliOptions.DryRun();
        var yes = CliOptions.Yes();

        var command = new Command("delete", "Deletes the selected entries of a stream for good (XDEL): e.g. failed messages that must not be "
            + "sent again. The stream and its consumer groups stay.") { stream, dryRun, yes };
        selection.AddTo(command);

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, token) =>
        {
            var from = await session.ResolveExisting(parse.GetRequiredValue(stream)).ConfigureAwait(false);
            var chosen = selection.Get(parse);
            var ids = await session.Operations.PlanDelete(from, chosen, token).ConfigureAwait(false);

            if (parse.GetValue(dryRun) || ids.Count == 0)
            {
                if (CliOutput.IsJson(parse))
                    CliOutput.WriteJson(new DeleteDocument(from.DisplayName, true, ids, 0));
                else
                {
                    AnsiConsole.WriteLine(ids.Count == 0
                        ? $"No entry of {from.DisplayName} is selected: nothing changed."
                        : $"Dry run: would delete {ids.Count} entries from {from.DisplayName} ({Range(ids)}); nothing changed.");
                }

                return ExitCodes.Done;
            }

            if (!CliOutput.Confirm(parse, yes, $"Delete {ids.Count} entries from {from.DisplayName} for good?"))
                return ExitCodes.Done;

            var planned = chosen with { Ids = ids.Select(x => StreamEntryId.Parse(x)).ToArray(), Limit = null };
            long deleted = 0;
            await CliOutput.Progress(parse, $"delete from {from.DisplayName}", ids.Count, async progress =>
                deleted = await session.Operations.Delete(from, planned, progress, token).ConfigureAwait(false)).ConfigureAwait(false);

            if (CliOutput.IsJson(parse))
                CliOutput.WriteJson(new DeleteDocument(from.DisplayName, false, ids, deleted));
            else
                AnsiConsole.WriteLine($"Deleted {deleted} entries from {from.DisplayName}.");

            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }

    static string Range(IReadOnlyList<string> ids) => ids.Count == 1 ? ids[0] : $"{ids[0]} .. {ids[^1]}";


    sealed record DeleteDocument(string Stream, bool DryRun, IReadOnlyList<string> Ids, long Deleted);
}
