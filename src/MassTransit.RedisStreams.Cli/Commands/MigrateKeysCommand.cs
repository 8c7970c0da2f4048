namespace MassTransit.RedisStreams.Cli.Commands;

using System.CommandLine;
using System.Linq;
using Spectre.Console;


/// <summary>
/// <c>redis-streams --prefix p migrate-keys</c>: renames the keys beside a prefix's streams from their earlier names
/// (<c>{p:queue:x}:delayed</c>) to the names under the prefix (<c>p:{p:queue:x}:delayed</c>), merging where both exist.
/// </summary>
static class MigrateKeysCommand
{
    public static Command Create()
    {
        var dryRun = CliOptions.DryRun();
        var yes = CliOptions.Yes();
        var command = new Command("migrate-keys", "Moves the keys beside the streams of a key prefix (delayed messages, subscriber and "
            + "source registrations, clocks, wake flags) from their earlier names '{<prefix>:...}:x' to '<prefix>:{<prefix>:...}:x', merging "
            + "where both exist, on every primary. Needs --prefix; safe to run while the bus runs, and again.") { dryRun, yes };

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, token) =>
        {
            if (string.IsNullOrEmpty(session.KeyPrefix))
                throw new CliException(ExitCodes.Usage, "migrate-keys needs --prefix: the keys of a bus without a key prefix kept their names.");

            var plan = await session.Redis.Migration.PlanLegacyKeys(token).ConfigureAwait(false);
            if (parse.GetValue(dryRun) || plan.Count == 0)
            {
                if (CliOutput.IsJson(parse))
                {
                    CliOutput.WriteJson(new
                    {
                        prefix = session.KeyPrefix, dryRun = true, moved = plan.Select(x => new { from = x.From.ToString(), to = x.To.ToString(), merge = x.Merge })
                    });
                }
                else
                {
                    foreach (var (from, to, merge) in plan)
                        AnsiConsole.WriteLine($"{from} -> {to}{(merge ? " (merged into the key there)" : "")}");

                    AnsiConsole.WriteLine(plan.Count == 0
                        ? $"No key to move under the prefix {session.KeyPrefix}: nothing changed."
                        : $"Dry run: would move {plan.Count} keys under the prefix {session.KeyPrefix}; nothing changed.");
                }

                return ExitCodes.Done;
            }

            if (!CliOutput.Confirm(parse, yes, $"Move {plan.Count} keys under the prefix {session.KeyPrefix}?"))
                return ExitCodes.Done;

            var moved = await session.Redis.Migration.MigrateLegacyKeys(token).ConfigureAwait(false);
            if (CliOutput.IsJson(parse))
            {
                CliOutput.WriteJson(new { prefix = session.KeyPrefix, dryRun = false, moved = moved.Select(x => new { from = x.From.ToString(), to = x.To.ToString() }) });
                return ExitCodes.Done;
            }

            foreach (var (from, to) in moved)
                AnsiConsole.WriteLine($"{from} -> {to}");

            AnsiConsole.WriteLine($"Moved {moved.Count} keys under the prefix {session.KeyPrefix}.");
            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }
}
