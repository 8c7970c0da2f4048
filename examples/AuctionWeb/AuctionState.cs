namespace AuctionWeb;

using System;
using MassTransit;


/// <summary>The auction saga's instance. Kept in MassTransit's in-memory saga repository: it is lost when the process stops.</summary>
public class AuctionState :
    SagaStateMachineInstance
{
    public Guid CorrelationId { get; set; }
    public string CurrentState { get; set; } = "";
    public string Item { get; set; } = "";
    public decimal StartingPrice { get; set; }
    public DateTime ClosesAt { get; set; }
    public string? HighestBidder { get; set; }
    public decimal? HighestBid { get; set; }
    public int Bids { get; set; }

    /// <summary>The token of the scheduled <see cref="CloseAuction" />.</summary>
    public Guid? ClosingToken { get; set; }
}
