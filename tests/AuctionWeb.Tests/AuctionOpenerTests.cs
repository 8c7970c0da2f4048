namespace AuctionWeb.Tests;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using MassTransit.RedisStreams.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


/// <summary>The app with <c>Demo:AutoOpen</c>: a factory whose worker opens an auction every second, each running one second.</summary>
public sealed class AutoOpenFactory :
    AuctionWebFactory
{
    protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
    [
        new("Demo:AutoOpen", "true"),
        new("Demo:AutoOpenInterval", "00:00:01"),
        new("Demo:AuctionDuration", "00:00:01"),
    ];
}


public sealed class AuctionOpenerTests(AutoOpenFactory factory) :
    IClassFixture<AutoOpenFactory>
{
    [Fact]
    public async Task The_worker_opens_auctions_that_close_by_themselves()
    {
        using var client = factory.Client();
        var sales = factory.Services.GetRequiredService<SalesLog>();

        // Opened by the worker, closed by the scheduled CloseAuction, seen by the AuctionClosed consumer.
        Assert.True(await Eventually.True(() => sales.Recent(10).Count >= 2, TimeSpan.FromSeconds(20)), "two demo auctions opened and closed");
        Assert.All(sales.Recent(10), sale => Assert.Null(sale.Winner));
        Assert.True(sales.Recent(10).Select(x => x.Item).Distinct().Count() >= 2, "the worker varies its items");
    }
}
