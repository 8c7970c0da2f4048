namespace AuctionWeb;

using System;
using System.Threading;
using System.Threading.Tasks;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;


/// <summary>The body of <c>POST /auctions</c>; a missing duration is <c>Demo:AuctionDuration</c>.</summary>
public record OpenAuctionRequest(string Item, decimal StartingPrice, int? DurationSeconds);


/// <summary>The body of <c>POST /auctions/{id}/bids</c>.</summary>
public record BidRequest(string Bidder, decimal Amount);


/// <summary>The HTTP API: open an auction, bid (a request to the saga, its response returned), read an auction's state.</summary>
public static class AuctionEndpoints
{
    public static IEndpointRouteBuilder MapAuctions(this IEndpointRouteBuilder endpoints)
    {
        var auctions = endpoints.MapGroup("/auctions");

        auctions.MapPost("/", async (OpenAuctionRequest request, IPublishEndpoint publisher, IOptions<DemoOptions> demo, CancellationToken cancellationToken) =>
        {
            if (string.IsNullOrWhiteSpace(request.Item) || request.StartingPrice < 0 || request.DurationSeconds is <= 0)
                return Results.ValidationProblem(new System.Collections.Generic.Dictionary<string, string[]>
                {
                    ["auction"] = ["item must be given, startingPrice must not be negative, durationSeconds must be positive"]
                });

            var duration = request.DurationSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : demo.Value.AuctionDuration;
            var auction = new OpenAuction(NewId.NextGuid(), request.Item, request.StartingPrice, duration);
            await publisher.Publish(auction, cancellationToken);

            return Results.Accepted($"/auctions/{auction.AuctionId}", new { auction.AuctionId });
        });

        auctions.MapPost("/{id:guid}/bids", async (Guid id, BidRequest bid, IRequestClient<PlaceBid> client, CancellationToken cancellationToken) =>
        {
            var response = await client.GetResponse<BidAccepted, BidRejected>(new PlaceBid(id, bid.Bidder, bid.Amount), cancellationToken);

            if (response.Is(out Response<BidAccepted>? accepted))
                return Results.Ok(accepted.Message);

            return response.Is(out Response<BidRejected>? rejected)
                ? Results.Conflict(rejected.Message)
                : Results.StatusCode(StatusCodes.Status500InternalServerError);
        });

        auctions.MapGet("/{id:guid}", async (Guid id, IRequestClient<GetAuction> client, CancellationToken cancellationToken) =>
        {
            var response = await client.GetResponse<AuctionStatus, AuctionNotFound>(new GetAuction(id), cancellationToken);

            return response.Is(out Response<AuctionStatus>? status)
                ? Results.Ok(status.Message)
                : Results.NotFound(new { AuctionId = id });
        });

        endpoints.MapGet("/sales", (SalesLog sales) => Results.Ok(sales.Recent(20)));

        return endpoints;
    }
}
