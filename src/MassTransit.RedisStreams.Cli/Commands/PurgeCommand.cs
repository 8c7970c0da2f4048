namespace MassTransit.RedisStreams.Cli.Commands;

using System.Collections.Generic;
using System.CommandLine;
using System.Linq;
using Spectre.Console;


/// <summary><c>redis-streams purge</c>: every entry of a stream removed; the stream and its consumer groups stay.</summary>
static class PurgeCommand
{
    public static Command Create()
    {
        var stream = PeekCommand.StreamArgument("The stream to empty");
        var dryRun = CliOptions.DryRun();
        var yes = CliOptions.Yes();

        var command = new Command("purge", "Removes every entry of a stream (XTRIM MAXLEN 0) and keeps the stream with its consumer groups. "
            + "Warns when a group has entries delivered and not yet acknowledged: their messages are lost.") { stream, dryRun, yes };

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, _) =>
        {
            var target = await session.ResolveExisting(parse.GetRequiredValue(stream)).ConfigureAwait(false);
            var plan = await session.Operations.PlanPurge(target).ConfigureAwait(false);
            var pending = plan.GroupsWithPending.Select(x => new PendingGroup(x.Group, x.Pending)).ToArray();

            if (!CliOutput.IsJson(parse))
            {
                foreach (var group in pending)
                {
                    AnsiConsole.MarkupLine($"[yellow]Warning: group {Markup.Escape(group.Group)} has {group.Pending} entries delivered and not yet "
                        + "acknowledged; a consumer handling them now still can, but they cannot be delivered again.[/]");
                }
            }

            if (parse.GetValue(dryRun))
            {
                if (CliOutput.IsJson(parse))
                    CliOutput.WriteJson(new PurgeDocument(target.DisplayName, true, plan.Length, 0, pending));
                else
                    AnsiConsole.WriteLine($"Dry run: would remove {plan.Length} entries from {target.DisplayName}; nothing changed.");

                return ExitCodes.Done;
            }

            if (!CliOutput.Confirm(parse, yes, $"Remove all {plan.Length} entries of {target.DisplayName}?"))
                return ExitCodes.Done;

            var removed = await session.Operations.Purge(target).ConfigureAwait(false);
            if (CliOutput.IsJson(parse))
                CliOutput.WriteJson(new PurgeDocument(target.DisplayName, false, plan.Length, removed, pending));
            else
                AnsiConsole.WriteLine($"Removed {removed} entries from {target.DisplayName}; the stream and its groups stay.");

            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }


    sealed record PendingGroup(string Group, long Pending);


    sealed record PurgeDocument(string Stream, bool DryRun, long Length, long Removed, IReadOnlyList<PendingGroup> GroupsWithPending);
}
