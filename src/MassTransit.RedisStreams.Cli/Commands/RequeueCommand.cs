namespace MassTransit.RedisStreams.Cli.Commands;

using System;
using System.CommandLine;
using Spectre.Console;


/// <summary><c>redis-streams requeue</c>: failed or skipped messages back to their queue.</summary>
static class RequeueCommand
{
    public static Command Create()
    {
        var endpoint = new Argument<string>("endpoint") { Description = "The receive endpoint whose error (or skipped) stream to empty." };
        var skipped = new Option<bool>("--skipped") { Description = "Take the skipped stream instead of the error stream." };
        var limit = new Option<int?>("--limit", "-n") { Description = "How many at most; all without it." }.AtLeastOne();

        var command = new Command("requeue", "Sends the messages of an endpoint's error (or skipped) stream back to its queue, oldest first, "
            + "as they were sent.") { endpoint, skipped, limit };


        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, token) =>
        {
            var name = parse.GetRequiredValue(endpoint);
            var source = parse.GetValue(skipped) ? RedisStreamsRequeueSource.Skipped : RedisStreamsRequeueSource.Error;
            var keys = session.Redis.Keys;
            var from = keys.Queue(source == RedisStreamsRequeueSource.Error ? keys.ErrorQueueName(name) : keys.SkippedQueueName(name));

            if (!await session.Redis.Admin.Exists(keys.Queue(name)).ConfigureAwait(false))
                throw new CliException(ExitCodes.NotFound, $"there is no endpoint '{name}': its queue stream {keys.Queue(name)} does not exist.");

            var admin = new RedisStreamsAdmin(session.Multiplexer, session.KeyPrefix);
            long moved = 0;
            await ReplayCommand.Progress().StartAsync(async context =>
            {
                var task = context.AddTask($"requeue {Markup.Escape(from.ToString())}");
                task.IsIndeterminate = true;
                moved = await admin.Requeue(name, source, parse.GetValue(limit), token).ConfigureAwait(false);
                task.Value = task.MaxValue;
            }).ConfigureAwait(false);

            AnsiConsole.WriteLine($"Requeued {moved} messages from {from} to {keys.Queue(name)}.");
            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }
}
