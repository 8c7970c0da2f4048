namespace AuctionHouse;

using System;
using MassTransit;


/// <summary>Every auction event carries the auction it belongs to.</summary>
public interface IAuctionEvent
{
    Guid AuctionId { get; }
}


/// <summary>
/// An auction closed. Published to the stream <c>events:AuctionEnded</c>, the same stream the Python event broker used.
/// </summary>
/// <param name="AuctionId">The auction.</param>
/// <param name="Item">What was sold.</param>
/// <param name="Winner">The highest bidder, or null when nobody bid.</param>
/// <param name="Amount">The winning bid; zero when nobody bid.</param>
/// <param name="EndedAt">When the auction closed (UTC).</param>
[EntityName("AuctionEnded")]
public record AuctionEnded(Guid AuctionId, string Item, string? Winner, decimal Amount, DateTime EndedAt) :
    IAuctionEvent;
