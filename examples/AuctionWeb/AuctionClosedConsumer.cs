namespace AuctionWeb;

using System.Threading.Tasks;
using MassTransit;
using Microsoft.Extensions.Logging;


/// <summary>Reads every closed auction from the stream <c>events:AuctionClosed</c> (consumer group <c>auction-closed</c>) and logs the sale.</summary>
public sealed partial class AuctionClosedConsumer(SalesLog sales, ILogger<AuctionClosedConsumer> logger) :
    IConsumer<AuctionClosed>
{
    public Task Consume(ConsumeContext<AuctionClosed> context)
    {
        var closed = context.Message;
        sales.Add(closed);

        if (closed.Winner is null)
            LogUnsold(logger, closed.Item, closed.AuctionId);
        else
            LogSold(logger, closed.Item, closed.Winner, closed.Amount, closed.AuctionId);

        return Task.CompletedTask;
    }

    [LoggerMessage(LogLevel.Information, "Sold {Item} to {Winner} for {Amount} (auction {AuctionId})")]
    static partial void LogSold(ILogger logger, string item, string winner, decimal amount, System.Guid auctionId);

    [LoggerMessage(LogLevel.Information, "{Item} closed unsold (auction {AuctionId})")]
    static partial void LogUnsold(ILogger logger, string item, System.Guid auctionId);
}
