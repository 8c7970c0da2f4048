namespace AuctionWeb;

using System;
using MassTransit;


/// <summary>
/// An auction: <c>Opened</c> when <see cref="OpenAuction" /> arrives, <c>Bidding</c> from the first accepted bid, <c>Closed</c> when
/// its <see cref="CloseAuction" />, scheduled at opening for its closing time, arrives. Bids are requests it answers.
/// </summary>
public class AuctionStateMachine :
    MassTransitStateMachine<AuctionState>
{
    public AuctionStateMachine()
    {
        InstanceState(x => x.CurrentState);

        Event(() => Open, x => x.CorrelateById(m => m.Message.AuctionId));
        Event(() => Bid, x =>
        {
            x.CorrelateById(m => m.Message.AuctionId);
            x.OnMissingInstance(m => m.ExecuteAsync(context =>
                context.RespondAsync(new BidRejected(context.Message.AuctionId, context.Message.Bidder, context.Message.Amount, "no such auction"))));
        });
        Event(() => Get, x =>
        {
            x.CorrelateById(m => m.Message.AuctionId);
            x.OnMissingInstance(m => m.ExecuteAsync(context => context.RespondAsync(new AuctionNotFound(context.Message.AuctionId))));
        });

        // The transport's scheduler holds the message in Redis until it is due; any instance of the app delivers it.
        Schedule(() => Closing, x => x.ClosingToken, x => x.Received = r => r.CorrelateById(m => m.Message.AuctionId));

        Initially(
            When(Open)
                .Then(context =>
                {
                    context.Saga.Item = context.Message.Item;
                    context.Saga.StartingPrice = context.Message.StartingPrice;
                    context.Saga.ClosesAt = DateTime.UtcNow + context.Message.Duration;
                })
                .Schedule(Closing, context => new CloseAuction(context.Saga.CorrelationId), context => context.Saga.ClosesAt)
                .Publish(context => new AuctionOpened(context.Saga.CorrelationId, context.Saga.Item, context.Saga.StartingPrice, context.Saga.ClosesAt))
                .TransitionTo(Opened));

        During(Opened, Bidding,
            Ignore(Open),
            // One activity decides: two filtered When(Bid)s would both run, the second seeing the state the first changed.
            When(Bid)
                .IfElse(context => IsHighest(context.Saga, context.Message),
                    accept => accept
                        .Then(context =>
                        {
                            context.Saga.HighestBidder = context.Message.Bidder;
                            context.Saga.HighestBid = context.Message.Amount;
                            context.Saga.Bids++;
                        })
                        .Respond(context => new BidAccepted(context.Message.AuctionId, context.Message.Bidder, context.Message.Amount))
                        .TransitionTo(Bidding),
                    reject => reject
                        .Respond(context => new BidRejected(context.Message.AuctionId, context.Message.Bidder, context.Message.Amount,
                            context.Saga.HighestBid is { } highest
                                ? $"the bid must be more than {highest}"
                                : $"the bid must be at least {context.Saga.StartingPrice}"))),
            When(Closing!.Received)
                .Publish(context => new AuctionClosed(context.Saga.CorrelationId, context.Saga.Item, context.Saga.HighestBidder,
                    context.Saga.HighestBid ?? 0m, DateTime.UtcNow))
                .TransitionTo(Closed));

        During(Closed,
            Ignore(Open),
            When(Bid)
                .Respond(context => new BidRejected(context.Message.AuctionId, context.Message.Bidder,
                    context.Message.Amount, "the auction is closed")));

        DuringAny(
            When(Get)
                .Respond(context => new AuctionStatus(context.Saga.CorrelationId, context.Saga.Item,
                    context.Saga.CurrentState, context.Saga.StartingPrice, context.Saga.HighestBidder, context.Saga.HighestBid, context.Saga.Bids,
                    context.Saga.ClosesAt)));
    }

    public State Opened { get; private set; } = null!;
    public State Bidding { get; private set; } = null!;
    public State Closed { get; private set; } = null!;

    public Event<OpenAuction> Open { get; private set; } = null!;
    public Event<PlaceBid> Bid { get; private set; } = null!;
    public Event<GetAuction> Get { get; private set; } = null!;

    public Schedule<AuctionState, CloseAuction> Closing { get; private set; } = null!;

    static bool IsHighest(AuctionState auction, PlaceBid bid) =>
        auction.HighestBid is { } highest ? bid.Amount > highest : bid.Amount >= auction.StartingPrice;
}
