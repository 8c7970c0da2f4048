namespace MassTransit.RedisStreams.Cli.Commands;

using System.CommandLine;
using Operations;


/// <summary>
/// <c>redis-streams requeue</c>: an endpoint's failed or skipped messages back to its queue — <c>move</c> with the endpoint's
/// error (or skipped) stream as the source, its queue as the target, and the first N as the selection.
/// </summary>
static class RequeueCommand
{
    public static Command Create()
    {
        var endpoint = new Argument<string>("endpoint") { Description = "The receive endpoint whose error (or skipped) stream to empty." };
        var skipped = new Option<bool>("--skipped") { Description = "Take the skipped stream instead of the error stream." };
        var limit = new Option<int?>("--limit", "-n") { Description = "How many at most; all without it." }.AtLeastOne();
        var dryRun = CliOptions.DryRun();
        var yes = CliOptions.Yes();

        var command = new Command("requeue", "Sends the messages of an endpoint's error (or skipped) stream back to its queue, oldest first, "
            + "as they were sent. The same as 'move <endpoint>_error --to <endpoint>'; use move to choose entries.") { endpoint, skipped, limit, dryRun, yes };

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, token) =>
        {
            var name = parse.GetRequiredValue(endpoint);
            var keys = session.Redis.Keys;
            var resolver = session.Operations.Resolver;

            if (!await session.Redis.Admin.Exists(keys.Queue(name)).ConfigureAwait(false))
                throw new CliException(ExitCodes.NotFound, $"there is no endpoint '{name}': its queue stream {keys.Queue(name)} does not exist.");

            var from = resolver.Queue(parse.GetValue(skipped) ? keys.SkippedQueueName(name) : keys.ErrorQueueName(name));
            return await MoveCommand.Run(parse, session, from, new EntrySelection { Limit = parse.GetValue(limit) }, resolver.Queue(name), dryRun, yes,
                "Requeued", token).ConfigureAwait(false);
        }, cancellationToken));

        return command;
    }
}
