namespace AuctionWeb.Tests;

using System;
using System.Net;
using System.Net.Http;
using System.Net.Http.Json;
using System.Threading.Tasks;
using MassTransit.RedisStreams.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


public sealed class AuctionWebTests(AuctionWebFactory factory) :
    IClassFixture<AuctionWebFactory>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Health_endpoints_answer_healthy()
    {
        using var client = factory.Client();

        using var live = await client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("Healthy", await live.Content.ReadAsStringAsync());

        // Ready once the bus has started its endpoints on Redis.
        var body = "";
        Assert.True(await Eventually.True(async () =>
        {
            using var ready = await client.GetAsync("/health/ready");
            body = await ready.Content.ReadAsStringAsync();
            return ready.StatusCode == HttpStatusCode.OK && body == "Healthy";
        }, Timeout), $"/health/ready answers Healthy (last: {body})");
    }

    [Fact]
    public async Task A_bid_over_http_gets_the_sagas_response()
    {
        using var client = factory.Client();
        var auctionId = await Open(client, "a Leica M3", startingPrice: 100m, durationSeconds: 60);

        using var accepted = await client.PostAsJsonAsync($"/auctions/{auctionId}/bids", new BidRequest("ada", 150m));
        Assert.True(accepted.StatusCode == HttpStatusCode.OK, await accepted.Content.ReadAsStringAsync());
        var bid = await accepted.Content.ReadFromJsonAsync<BidAccepted>();
        Assert.Equal(new BidAccepted(auctionId, "ada", 150m), bid);

        using var rejected = await client.PostAsJsonAsync($"/auctions/{auctionId}/bids", new BidRequest("bob", 120m));
        Assert.Equal(HttpStatusCode.Conflict, rejected.StatusCode);
        var rejection = await rejected.Content.ReadFromJsonAsync<BidRejected>();
        Assert.Equal("bob", rejection!.Bidder);
        Assert.Contains("more than 150", rejection.Reason, StringComparison.Ordinal);

        using var unknown = await client.PostAsJsonAsync($"/auctions/{Guid.NewGuid()}/bids", new BidRequest("eve", 1m));
        Assert.Equal(HttpStatusCode.Conflict, unknown.StatusCode);
        Assert.Equal("no such auction", (await unknown.Content.ReadFromJsonAsync<BidRejected>())!.Reason);

        using var missing = await client.GetAsync($"/auctions/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task The_auction_goes_from_opened_through_bidding_to_closed_by_its_scheduled_close()
    {
        using var client = factory.Client();
        var auctionId = await Open(client, "a 1962 Stratocaster", startingPrice: 500m, durationSeconds: 3);

        var opened = await State(client, auctionId);
        Assert.Equal("Opened", opened.State);
        Assert.Equal(0, opened.Bids);

        using (var bid = await client.PostAsJsonAsync($"/auctions/{auctionId}/bids", new BidRequest("ada", 650m)))
            Assert.Equal(HttpStatusCode.OK, bid.StatusCode);

        var bidding = await State(client, auctionId);
        Assert.Equal("Bidding", bidding.State);
        Assert.Equal("ada", bidding.HighestBidder);
        Assert.Equal(650m, bidding.HighestBid);

        // CloseAuction, scheduled at opening for three seconds later, waits in Redis and closes it.
        AuctionStatus? last = null;
        Assert.True(await Eventually.True(async () => (last = await State(client, auctionId)).State == "Closed", Timeout),
            $"the auction closed by itself (last state: {last?.State})");

        // The consumer of AuctionClosed saw the sale.
        var sales = factory.Services.GetRequiredService<SalesLog>();
        Assert.True(await Eventually.True(() => sales.Contains(auctionId), Timeout), "the AuctionClosed consumer handled the sale");
        using var late = await client.PostAsJsonAsync($"/auctions/{auctionId}/bids", new BidRequest("bob", 900m));
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Equal("the auction is closed", (await late.Content.ReadFromJsonAsync<BidRejected>())!.Reason);
    }

    [Fact]
    public async Task The_streams_web_view_serves_the_overview_read_only()
    {
        using var client = factory.Client();
        await Open(client, "an Eames chair", startingPrice: 10m, durationSeconds: 60);

        using var overview = await client.GetAsync("/streams/");
        Assert.Equal(HttpStatusCode.OK, overview.StatusCode);
        var html = await overview.Content.ReadAsStringAsync();
        Assert.Contains("Auction house", html, StringComparison.Ordinal);
        Assert.Contains("events:OpenAuction", html, StringComparison.Ordinal);
        Assert.Contains("queue:auction-state", html, StringComparison.Ordinal);

        using var history = await client.GetAsync("/streams/history?type=OpenAuction");
        Assert.Equal(HttpStatusCode.OK, history.StatusCode);
        Assert.Contains("an Eames chair", await history.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Outside Development nobody meets the changes policy: the view is read-only.
        using var replay = await client.PostAsync("/streams/replay", new FormUrlEncodedContent([]));
        Assert.True(replay.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.BadRequest, $"a change is refused (was {replay.StatusCode})");
    }

    static async Task<Guid> Open(HttpClient client, string item, decimal startingPrice, int durationSeconds)
    {
        using var response = await client.PostAsJsonAsync("/auctions", new OpenAuctionRequest(item, startingPrice, durationSeconds));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var auctionId = (await response.Content.ReadFromJsonAsync<Opened>())!.AuctionId;

        // Opening is a publish; the saga has the auction once a GET finds it.
        Assert.True(await Eventually.True(async () =>
        {
            using var get = await client.GetAsync($"/auctions/{auctionId}");
            return get.StatusCode == HttpStatusCode.OK;
        }, Timeout), "the saga has the auction");

        return auctionId;
    }

    static async Task<AuctionStatus> State(HttpClient client, Guid auctionId) =>
        (await client.GetFromJsonAsync<AuctionStatus>($"/auctions/{auctionId}"))!;

    sealed record Opened(Guid AuctionId);
}
