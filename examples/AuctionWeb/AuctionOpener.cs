namespace AuctionWeb;

using System;
using System.Threading;
using System.Threading.Tasks;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;


/// <summary>With <c>Demo:AutoOpen</c>, opens an auction every <c>Demo:AutoOpenInterval</c>, so that streams, the saga and the web view have something to show.</summary>
public sealed partial class AuctionOpener(IServiceScopeFactory scopes, IOptions<DemoOptions> options, ILogger<AuctionOpener> logger) :
    BackgroundService
{
    static readonly string[] Items = ["a Leica M3", "a first edition of Dune", "a 1962 Stratocaster", "a Rolex Submariner", "an Eames chair"];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var demo = options.Value;
        if (!demo.AutoOpen)
            return;

        using var timer = new PeriodicTimer(demo.AutoOpenInterval);
        var count = 0;
        do
        {
            var auction = new OpenAuction(NewId.NextGuid(), Items[count++ % Items.Length], 100m, demo.AuctionDuration);
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<IPublishEndpoint>().Publish(auction, stoppingToken);
                LogOpened(logger, auction.Item, auction.AuctionId);
            }
            catch (Exception exception) when (exception is MassTransitException or TimeoutException)
            {
                // Redis may be away for a while; the next tick tries again.
                LogFailed(logger, exception);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(LogLevel.Information, "Opened an auction of {Item} ({AuctionId})")]
    static partial void LogOpened(ILogger logger, string item, Guid auctionId);

    [LoggerMessage(LogLevel.Warning, "Could not open an auction")]
    static partial void LogFailed(ILogger logger, Exception exception);
}
