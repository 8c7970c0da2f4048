namespace AuctionWeb.AppHost.Tests;

using System;
using System.Net;
using System.Net.Http;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using MassTransit.RedisStreams.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


/// <summary>
/// The Aspire app host as a developer starts it, run by Aspire.Hosting.Testing: Aspire's orchestrator starts the web app as
/// a process of its own with <c>ConnectionStrings__redis</c> and OpenTelemetry settings from the app host, and the app serves
/// its API through the endpoint Aspire gave it. Redis is the tests' private redis-server, handed to the app host as
/// <c>ConnectionStrings:redis</c>; without it the app host starts a Redis container, which needs Docker or Podman.
/// </summary>
public sealed class AppHostTests
{
    static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);
    static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_app_host_starts_the_app_healthy_and_a_bid_gets_the_sagas_response()
    {
        var redis = await TestRedis.GetConnectionStringAsync();
        var prefix = TestRedis.NewKeyPrefix();
        using var cancel = new CancellationTokenSource(StartTimeout);

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AuctionWeb_AppHost>(
            ["--ConnectionStrings:redis=" + redis], cancel.Token);
        // Its own key prefix on the shared Redis, and no demo auctions, so that what the test reads is its own.
        builder.CreateResourceBuilder<ProjectResource>("auctionweb")
            .WithEnvironment("RedisStreams__KeyPrefix", prefix)
            .WithEnvironment("Demo__AutoOpen", "false");

        await using var app = await builder.BuildAsync(cancel.Token);
        await app.StartAsync(cancel.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("auctionweb", cancel.Token);

        using var client = app.CreateHttpClient("auctionweb", "http");
        client.Timeout = RequestTimeout;

        using (var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative), cancel.Token))
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        using var opened = await client.PostAsJsonAsync("/auctions", new { Item = "a Hasselblad 500C", StartingPrice = 200m, DurationSeconds = 60 },
            cancel.Token);
        Assert.Equal(HttpStatusCode.Accepted, opened.StatusCode);
        var auctionId = (await opened.Content.ReadFromJsonAsync<JsonElement>(cancel.Token)).GetProperty("auctionId").GetGuid();

        // Opening is a publish; the saga has the auction once a GET finds it.
        Assert.True(await Eventually.True(async () =>
        {
            using var get = await client.GetAsync(new Uri($"/auctions/{auctionId}", UriKind.Relative), cancel.Token);
            return get.StatusCode == HttpStatusCode.OK;
        }, RequestTimeout), "the saga has the auction");

        using var bid = await client.PostAsJsonAsync($"/auctions/{auctionId}/bids", new { Bidder = "ada", Amount = 250m }, cancel.Token);
        Assert.True(bid.StatusCode == HttpStatusCode.OK, await bid.Content.ReadAsStringAsync(cancel.Token));
        var accepted = await bid.Content.ReadFromJsonAsync<JsonElement>(cancel.Token);
        Assert.Equal("ada", accepted.GetProperty("bidder").GetString());
        Assert.Equal(250m, accepted.GetProperty("amount").GetDecimal());

        // The app wrote under the prefix the app host's environment gave it, on the Redis the connection string named.
        using var streams = await client.GetAsync(new Uri("/streams", UriKind.Relative), cancel.Token);
        Assert.Equal(HttpStatusCode.OK, streams.StatusCode);
        Assert.Contains(prefix, await streams.Content.ReadAsStringAsync(cancel.Token), StringComparison.Ordinal);
    }
}
