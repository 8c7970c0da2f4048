namespace AuctionWeb;

using System;
using MassTransit;


/// <summary>Opens an auction; published by <c>POST /auctions</c> and by the demo opener. The auction saga starts on it.</summary>
/// <param name="AuctionId">The new auction.</param>
/// <param name="Item">What is sold.</param>
/// <param name="StartingPrice">The lowest first bid.</param>
/// <param name="Duration">How long it takes bids; then it closes itself.</param>
[EntityName("OpenAuction")]
public record OpenAuction(Guid AuctionId, string Item, decimal StartingPrice, TimeSpan Duration);


/// <summary>An auction opened and takes bids until <paramref name="ClosesAt" />.</summary>
[EntityName("AuctionOpened")]
public record AuctionOpened(Guid AuctionId, string Item, decimal StartingPrice, DateTime ClosesAt);


/// <summary>A bid, sent as a request by <c>POST /auctions/{id}/bids</c>; answered with <see cref="BidAccepted" /> or <see cref="BidRejected" />.</summary>
public record PlaceBid(Guid AuctionId, string Bidder, decimal Amount);


/// <summary>The bid is now the highest.</summary>
public record BidAccepted(Guid AuctionId, string Bidder, decimal Amount);


/// <summary>The bid was not taken: too low, the auction is closed, or there is no such auction.</summary>
public record BidRejected(Guid AuctionId, string Bidder, decimal Amount, string Reason);


/// <summary>Scheduled by the saga when the auction opens, for its closing time; it closes the auction.</summary>
public record CloseAuction(Guid AuctionId);


/// <summary>An auction closed: sold to the highest bidder, or unsold when nobody bid.</summary>
[EntityName("AuctionClosed")]
public record AuctionClosed(Guid AuctionId, string Item, string? Winner, decimal Amount, DateTime ClosedAt);


/// <summary>Asks the saga where an auction stands; answered with <see cref="AuctionStatus" /> or <see cref="AuctionNotFound" />.</summary>
public record GetAuction(Guid AuctionId);


/// <summary>Where an auction stands: its saga state (<c>Opened</c>, <c>Bidding</c>, <c>Closed</c>) and the highest bid.</summary>
public record AuctionStatus(Guid AuctionId, string Item, string State, decimal StartingPrice, string? HighestBidder, decimal? HighestBid,
    int Bids, DateTime ClosesAt);


/// <summary>No saga has this auction.</summary>
public record AuctionNotFound(Guid AuctionId);
