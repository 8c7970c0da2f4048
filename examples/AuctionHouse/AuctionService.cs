namespace AuctionHouse;

using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MassTransit;
using Microsoft.Extensions.Logging;


/// <summary>Closes a handful of auctions and publishes an <see cref="AuctionEnded" /> for each.</summary>
public sealed class AuctionService
{
    static readonly (string Item, string? Winner, decimal Amount)[] Lots =
    [
        ("Vintage guitar", "alice", 1250.00m),
        ("Oil painting", "bob", 830.50m),
        ("Pocket watch", "carol", 410.00m),
        ("First edition novel", null, 0m),
        ("Mid-century armchair", "dave", 675.25m)
    ];

    readonly ILogger<AuctionService> _logger;
    readonly IBus _bus;
    readonly AuctionRun _run;

    public AuctionService(IBus bus, AuctionRun run, ILogger<AuctionService> logger)
    {
        _bus = bus;
        _run = run;
        _logger = logger;
    }

    public async Task CloseAuctions(CancellationToken cancellationToken)
    {
        var auctions = Lots.Select(x => new AuctionEnded(Guid.NewGuid(), x.Item, x.Winner, x.Amount, DateTime.UtcNow)).ToList();

        // Known before the first publish, so a consumer that is quick never sees an auction it cannot place.
        _run.Expect(auctions.Select(x => x.AuctionId));

        foreach (var auction in auctions)
        {
            await _bus.Publish(auction, context => context.Headers.Set(AuctionRun.RunIdHeader, _run.RunId), cancellationToken);

            if (auction.Winner is null)
                Log.AuctionUnsold(_logger, auction.Item);
            else
                Log.AuctionSold(_logger, auction.Item, auction.Winner, auction.Amount);
        }
    }
}
