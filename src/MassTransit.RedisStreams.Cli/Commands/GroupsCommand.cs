namespace MassTransit.RedisStreams.Cli.Commands;

using System.CommandLine;
using System.Globalization;
using Spectre.Console;


/// <summary><c>redis-streams groups</c>: the consumer groups of a stream; list them, remove a retired endpoint's.</summary>
static class GroupsCommand
{
    public static Command Create()
    {
        return new Command("groups", "The consumer groups of a stream (one per receive endpoint that reads it): list them, remove the group of "
            + "an endpoint that is retired.") { CreateList(), CreateDelete() };
    }

    static Command CreateList()
    {
        var stream = PeekCommand.StreamArgument("The stream");
        var command = new Command("list", "Lists the groups of a stream: consumers, pending entries, lag, last delivered entry, idle time.") { stream };

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, _) =>
        {
            var target = await session.ResolveExisting(parse.GetRequiredValue(stream)).ConfigureAwait(false);
            var info = await session.Groups.DescribeType(target).ConfigureAwait(false);

            if (CliOutput.IsJson(parse))
            {
                CliOutput.WriteJson(new GroupsDocument(target.DisplayName, info.Groups));
                return ExitCodes.Done;
            }

            AnsiConsole.Write(InfoCommand.GroupsTable(info));
            AnsiConsole.WriteLine($"{info.Groups.Count} groups on {target.DisplayName}.");
            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }

    static Command CreateDelete()
    {
        var stream = PeekCommand.StreamArgument("The stream");
        var group = new Argument<string>("group") { Description = "The group: the name of the retired receive endpoint." };
        var dryRun = CliOptions.DryRun();
        var yes = CliOptions.Yes();

        var command = new Command("delete", "Removes a consumer group (XGROUP DESTROY) with its pending entries, and on an event stream its "
            + "registration as a subscriber: for an endpoint that is retired, whose group otherwise holds back retention for good. An endpoint "
            + "that still runs creates its group again.") { stream, group, dryRun, yes };

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, _) =>
        {
            var target = await session.ResolveExisting(parse.GetRequiredValue(stream)).ConfigureAwait(false);
            var name = parse.GetRequiredValue(group);
            var info = await session.Groups.DescribeType(target).ConfigureAwait(false);
            var found = System.Linq.Enumerable.FirstOrDefault(info.Groups, x => x.Name == name)
                ?? throw new CliException(ExitCodes.NotFound, $"{target.DisplayName} has no consumer group '{name}'.");

            if (parse.GetValue(dryRun))
            {
                if (CliOutput.IsJson(parse))
                    CliOutput.WriteJson(new GroupDeleteDocument(target.DisplayName, name, true, false, found));
                else
                    AnsiConsole.WriteLine($"Dry run: would remove group {name} ({found.Pending} pending, {found.Consumers.Count} consumers) from {target.DisplayName}; nothing changed.");

                return ExitCodes.Done;
            }

            if (!CliOutput.Confirm(parse, yes, $"Remove group {name} ({found.Pending.ToString(CultureInfo.InvariantCulture)} pending) from {target.DisplayName}?"))
                return ExitCodes.Done;

            await session.Groups.Delete(target, name).ConfigureAwait(false);
            if (CliOutput.IsJson(parse))
                CliOutput.WriteJson(new GroupDeleteDocument(target.DisplayName, name, false, true, found));
            else
                AnsiConsole.WriteLine(info.Partitions.Count == 0
                    ? $"Removed group {name} from {target.DisplayName}."
                    : $"Removed group {name} from {target.DisplayName} and its {Operations.ConsumerGroups.PartitionsLabel(info)}.");

            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }


    sealed record GroupsDocument(string Stream, System.Collections.Generic.IReadOnlyList<RedisStreamsGroupInfo> Groups);


    sealed record GroupDeleteDocument(string Stream, string Group, bool DryRun, bool Deleted, RedisStreamsGroupInfo Before);
}
