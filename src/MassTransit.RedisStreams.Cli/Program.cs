namespace MassTransit.RedisStreams.Cli;

using System.CommandLine;
using System.Threading.Tasks;
using Commands;


/// <summary>
/// <c>redis-streams</c>: look at and operate the streams of a MassTransit.RedisStreams bus. Exit codes: 0 done, 1 Redis
/// failed during the command, 2 the command line is wrong, 3 Redis cannot be reached, 4 no such stream or endpoint.
/// </summary>
public static class Program
{
    public static Task<int> Main(string[] args)
    {
        // Tables written to a file or a pipe get room to be read there, instead of the 80 columns of no terminal.
        if (System.Console.IsOutputRedirected)
            Spectre.Console.AnsiConsole.Profile.Width = 200;

        var root = new RootCommand("Looks at and operates the streams of a MassTransit.RedisStreams bus: list them, read a message "
            + "type's history, replay it to an endpoint, move an endpoint in the log, read, move and delete failed messages (peek, move, requeue, delete, purge), manage consumer groups, trim, list and cancel scheduled messages, move keys to their names under a key prefix, and serve all of this as a web view (dashboard).")
        {
            CliOptions.Connection,
            CliOptions.KeyPrefix,
            CliOptions.Archive,
            CliOptions.Output,
            StreamsCommand.Create(),
            InfoCommand.Create(),
            PeekCommand.Create(),
            MoveCommand.Create(),
            DeleteCommand.Create(),
            PurgeCommand.Create(),
            GroupsCommand.Create(),
            HistoryCommand.Create(),
            ReplayCommand.Create(),
            RewindCommand.Create(),
            RequeueCommand.Create(),
            TrimCommand.Create(),
            ScheduledCommand.Create(),
            MigrateKeysCommand.Create(),
            DashboardCommand.Create()
        };

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
                System.Console.Error.WriteLine("redis-streams: " + error.Message);

            System.Console.Error.WriteLine("Run 'redis-streams --help' for the commands and their options.");
            return Task.FromResult(ExitCodes.Usage);
        }

        return parsed.InvokeAsync();
    }
}
