namespace AuctionHouse;

using System;
using System.Threading.Tasks;
using MassTransit;
using Microsoft.Extensions.Logging;


/// <summary>
/// Keeps the sales report. Its receive endpoint <c>reporting</c> is a consumer group of its own on
/// <c>events:AuctionEnded</c>, independent of the <c>notification</c> group.
/// </summary>
public sealed class ReportingConsumer :
    IConsumer<AuctionEnded>
{
    public const string Name = "reporting";

    readonly SalesLedger _ledger;
    readonly ILogger<ReportingConsumer> _logger;
    readonly AuctionRun _run;

    public ReportingConsumer(AuctionRun run, SalesLedger ledger, ILogger<ReportingConsumer> logger)
    {
        _run = run;
        _ledger = ledger;
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

        var (sold, unsold, total) = _ledger.Add(auction);

        Log.SalesReport(_logger, Name, total, sold, unsold, auction.Item);

        _run.Handled(Name, auction.AuctionId);

        return Task.CompletedTask;
    }
}
