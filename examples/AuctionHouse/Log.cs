namespace AuctionHouse;

using Microsoft.Extensions.Logging;


/// <summary>The example's log messages, generated at compile time (no boxing, nothing formatted when a level is off).</summary>
static partial class Log
{
    [LoggerMessage(Level = LogLevel.Information, Message = "[auctions] closed {Item}: {Winner} wins at {Amount:0.00}")]
    public static partial void AuctionSold(ILogger logger, string item, string winner, decimal amount);

    [LoggerMessage(Level = LogLevel.Information, Message = "[auctions] closed {Item}: no bids")]
    public static partial void AuctionUnsold(ILogger logger, string item);

    [LoggerMessage(Level = LogLevel.Information, Message = "[{Consumer}] notify winner {Winner}: you won {Item} for {Amount:0.00} ({Entry})")]
    public static partial void NotifyWinner(ILogger logger, string consumer, string winner, string item, decimal amount, string entry);

    [LoggerMessage(Level = LogLevel.Information, Message = "[{Consumer}] no bids on {Item}; notify the seller ({Entry})")]
    public static partial void NotifySeller(ILogger logger, string consumer, string item, string entry);

    [LoggerMessage(Level = LogLevel.Information, Message = "[{Consumer}] report: total sales {Total:0.00} ({Sold} sold, {Unsold} unsold) after {Item}")]
    public static partial void SalesReport(ILogger logger, string consumer, decimal total, int sold, int unsold, string item);

    [LoggerMessage(Level = LogLevel.Information, Message = "[{Consumer}] skipped {Item}: an event of an earlier run (RunId {RunId})")]
    public static partial void SkippedEarlierRun(ILogger logger, string consumer, string item, string runId);
}
