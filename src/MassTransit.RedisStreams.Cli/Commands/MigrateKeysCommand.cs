namespace MassTransit.RedisStreams.Cli.Commands;

using System.CommandLine;
using Spectre.Console;


/// <summary>
/// <c>redis-streams --prefix p migrate-keys</c>: renames the keys beside a prefix's streams from their earlier names
/// (<c>{p:queue:x}:delayed</c>) to the names under the prefix (<c>p:{p:queue:x}:delayed</c>), merging where both exist.
/// </summary>
static class MigrateKeysCommand
{
    public static Command Create()
    {
        var command = new Command("migrate-keys", "Moves the keys beside the streams of a key prefix (delayed messages, subscriber and "
            + "source registrations, clocks, wake flags) from their earlier names '{<prefix>:...}:x' to '<prefix>:{<prefix>:...}:x', merging "
            + "where both exist, on every primary. Needs --prefix; safe to run while the bus runs, and again.");

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, token) =>
        {
            if (string.IsNullOrEmpty(session.KeyPrefix))
                throw new CliException(ExitCodes.Usage, "migrate-keys needs --prefix: the keys of a bus without a key prefix kept their names.");

            var moved = await session.Redis.Migration.MigrateLegacyKeys(token).ConfigureAwait(false);
            if (CliOutput.IsJson(parse))
            {
                CliOutput.WriteJson(new { prefix = session.KeyPrefix, moved = System.Linq.Enumerable.Select(moved, x => new { from = x.Item1.ToString(), to = x.Item2.ToString() }) });
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
