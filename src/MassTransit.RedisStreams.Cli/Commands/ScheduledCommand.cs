namespace MassTransit.RedisStreams.Cli.Commands;

using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Redis;
using Spectre.Console;
using StackExchange.Redis;


/// <summary><c>redis-streams scheduled</c>: the messages waiting in Redis to be appended to their streams; list and cancel.</summary>
static class ScheduledCommand
{
    public static Command Create()
    {
        return new Command("scheduled", "Messages scheduled or delayed, waiting in Redis to be appended to their streams when due: list them, "
            + "cancel one.") { CreateList(), CreateCancel() };
    }

    static Command CreateList()
    {
        var name = new Argument<string?>("name")
        {
            Description = "Only the messages for this stream: the entity name of a message type (AuctionEnded), or with --queue an endpoint's name.",
            Arity = ArgumentArity.ZeroOrOne
        };
        var queue = new Option<bool>("--queue") { Description = "<name> is an endpoint: list what waits for its queue." };
        var count = new Option<int>("--count", "-n") { Description = "How many at most, the first due first.", DefaultValueFactory = _ => 20 }.AtLeastOne();

        var command = new Command("list", "Lists waiting messages, the first due first: due time, stream, message type, message ID and the token "
            + "that cancels it.") { name, queue, count };

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, _) =>
        {
            var keys = session.Redis.Keys;
            var limit = parse.GetValue(count);

            RedisKey[] streams;
            if (parse.GetValue(name) is { } streamName)
                streams = [parse.GetValue(queue) ? keys.Queue(streamName) : keys.Events(streamName)];
            else
                streams = await session.Redis.Delayed.GetStreams().ConfigureAwait(false);

            var waiting = new List<(RedisKey Stream, string Token, DateTimeOffset Due, NameValueEntry[] Fields)>();
            long total = 0;
            foreach (var stream in streams)
            {
                var (scheduled, _) = await session.Redis.Delayed.GetSummary(stream).ConfigureAwait(false);
                total += scheduled;
                if (scheduled > 0)
                    waiting.AddRange((await session.Redis.Delayed.GetHeld(stream, limit).ConfigureAwait(false)).Select(x => (stream, x.Token, x.Due, x.Fields)));
            }

            var now = DateTimeOffset.UtcNow;
            if (CliOutput.IsJson(parse))
            {
                CliOutput.WriteJson(new
                {
                    total,
                    messages = waiting.OrderBy(x => x.Due).Take(limit).Select(x => new
                    {
                        due = x.Due, stream = Describe(keys, x.Stream), messageType = MessageType(x.Fields), messageId = Field(x.Fields, MessageHeaders.MessageId),
                        token = x.Token
                    })
                });
                return ExitCodes.Done;
            }

            var table = new Table().Border(TableBorder.Simple).AddColumns("Due (UTC)", "In", "Stream", "Message type", "Message ID", "Token");
            foreach (var (stream, token, due, fields) in waiting.OrderBy(x => x.Due).Take(limit))
            {
                table.AddRow(due.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture), Markup.Escape(In(due - now)),
                    Markup.Escape(Describe(keys, stream)), Markup.Escape(MessageType(fields)), Markup.Escape(Field(fields, MessageHeaders.MessageId)),
                    Markup.Escape(token));
            }

            AnsiConsole.Write(table);
            AnsiConsole.WriteLine($"{Math.Min(limit, waiting.Count)} of {total} waiting messages.");
            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }

    static Command CreateCancel()
    {
        var token = new Argument<string>("token") { Description = "The message's token, as 'scheduled list' shows it (a scheduled message's token ID)." };
        var dryRun = CliOptions.DryRun();
        var yes = CliOptions.Yes();

        var command = new Command("cancel", "Cancels a waiting message: it is removed from Redis and never appended.") { token, dryRun, yes };

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, _) =>
        {
            var value = parse.GetRequiredValue(token).Trim();
            var keys = session.Redis.Keys;
            var (stream, due, fields) = await Find(session.Redis.Delayed, value).ConfigureAwait(false)
                ?? throw new CliException(ExitCodes.NotFound, $"no message with the token {value} is waiting (it was appended already, or cancelled).");
            var what = $"{MessageType(fields)} due {due.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)} UTC for {Describe(keys, stream)}";

            if (parse.GetValue(dryRun))
            {
                if (CliOutput.IsJson(parse))
                    CliOutput.WriteJson(new CancelDocument(value, Describe(keys, stream), due, MessageType(fields), Field(fields, MessageHeaders.MessageId), true, false));
                else
                    AnsiConsole.WriteLine($"Dry run: would cancel {value}: {what}; nothing changed.");

                return ExitCodes.Done;
            }

            if (!CliOutput.Confirm(parse, yes, $"Cancel {value} ({what})?"))
                return ExitCodes.Done;

            if (!await session.Redis.Delayed.Cancel(stream, value).ConfigureAwait(false))
                throw new CliException(ExitCodes.NotFound, $"the message with the token {value} is no longer waiting (it was appended meanwhile, or cancelled).");

            if (CliOutput.IsJson(parse))
            {
                CliOutput.WriteJson(new CancelDocument(value, Describe(keys, stream), due, MessageType(fields), Field(fields, MessageHeaders.MessageId), false, true));
                return ExitCodes.Done;
            }

            AnsiConsole.WriteLine($"Cancelled {value}: it will not be appended to {Describe(keys, stream)}.");
            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }

    /// <summary>Finds the message by the token's recorded stream, else beside every stream with waiting messages.</summary>
    static async Task<(RedisKey Stream, DateTimeOffset Due, NameValueEntry[] Fields)?> Find(IDelayedStore delayed, string token)
    {
        if (await delayed.GetStreamOf(token).ConfigureAwait(false) is { } mapped && await delayed.Find(mapped, token).ConfigureAwait(false) is { } found)
            return (mapped, found.Due, found.Fields);

        foreach (var stream in await delayed.GetStreams().ConfigureAwait(false))
        {
            if (await delayed.Find(stream, token).ConfigureAwait(false) is { } held)
                return (stream, held.Due, held.Fields);
        }

        return null;
    }

    static string Describe(StreamKeys keys, RedisKey stream) =>
        keys.EntityNameOf(stream) is { } entityName ? "events:" + entityName
        : keys.QueueNameOf(stream) is { } queueName ? "queue:" + queueName
        : stream.ToString();

    static string Field(NameValueEntry[] fields, string name)
    {
        foreach (var field in fields)
        {
            if (field.Name == name)
                return (string?)field.Value ?? "";
        }

        return "";
    }

    /// <summary>The message's own type: the first of the types it was sent as.</summary>
    static string MessageType(NameValueEntry[] fields)
    {
        var types = Field(fields, MessageHeaders.MessageType);
        var first = types.Split(';', 2)[0];
        return first.StartsWith("urn:message:", StringComparison.Ordinal) ? first["urn:message:".Length..] : first;
    }

    static string In(TimeSpan wait) => wait <= TimeSpan.Zero ? "due"
        : wait < TimeSpan.FromMinutes(1) ? wait.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s"
        : wait < TimeSpan.FromHours(1) ? wait.ToString(@"m\:ss", CultureInfo.InvariantCulture)
        : wait < TimeSpan.FromDays(1) ? wait.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
        : wait.ToString(@"d\.hh\:mm\:ss", CultureInfo.InvariantCulture);


    sealed record CancelDocument(string Token, string Stream, DateTimeOffset Due, string MessageType, string MessageId, bool DryRun, bool Cancelled);
}
