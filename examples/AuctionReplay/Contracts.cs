namespace AuctionReplay;

using System;
using MassTransit;


/// <summary>
/// An auction closed: the contract the AuctionHouse example publishes to <c>events:AuctionEnded</c>. This application has
/// its own copy of it, as a separate service would: the entity name ties the two to one stream, and the message URN makes
/// MassTransit take one for the other.
/// </summary>
[EntityName("AuctionEnded")]
[MessageUrn("AuctionHouse:AuctionEnded")]
public record AuctionEnded(Guid AuctionId, string Item, string? Winner, decimal Amount, DateTime EndedAt);
