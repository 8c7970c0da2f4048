namespace AuctionHouse;

using System;
using System.Threading.Tasks;
using MassTransit;
using Microsoft.Extensions.Logging;


/// <summary>
/// Tells the winner of each auction. Its receive endpoint is <c>notification</c>, which is also its consumer group on
/// <c>events:AuctionEnded</c>, so it receives every event whatever other consumers do.
/// </summary>
public sealed class NotificationConsumer :
    IConsumer<AuctionEnded>
{
    public const string Name = "notification";

    readonly ILogger<NotificationConsumer> _logger;
    readonly AuctionRun _run;

    public NotificationConsumer(AuctionRun run, ILogger<NotificationConsumer> logger)
    {
        _run = run;
        _logger = logger;
    }

    public Task Consume(ConsumeContext<AuctionEnded> context)
    {
        ArgumentNullException.ThrowIfNull(context);

        var auction = context.Message;

        if (!_run.IsThisRun(auction.AuctionId))
        {
            var runId = context.Headers.Get<string>(AuctionRun.RunIdHeader) ?? "untagged";
            Log.SkippedEarlierRun(_logger, Name, auction.Item, runId);
            return Task.CompletedTask;
        }

        // Where the transport read the event from: the stream and the entry ID that XRANGE shows.
        var entry = context.TryGetPayload(out RedisStreamsMessageContext? redis) ? $"{redis.StreamKey} {redis.EntryId}" : "?";

        if (auction.Winner is null)
            Log.NotifySeller(_logger, Name, auction.Item, entry);
        else
            Log.NotifyWinner(_logger, Name, auction.Winner, auction.Item, auction.Amount, entry);

        _run.Handled(Name, auction.AuctionId);

        return Task.CompletedTask;
    }
}
