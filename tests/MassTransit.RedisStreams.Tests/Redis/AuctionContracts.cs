namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Threading.Tasks;
using Infrastructure;


public interface IAuctionEvent
{
    Guid AuctionId { get; }
}


[EntityName("AuctionEnded")]
public record AuctionEnded(Guid AuctionId, string Item, decimal Amount) :
    IAuctionEvent;


/// <summary>Records each AuctionEnded it consumes in the <see cref="DeliveryLog" /> registered under its own type.</summary>
public class NotificationConsumer :
    IConsumer<AuctionEnded>
{
    readonly DeliveryLogs _logs;

    public NotificationConsumer(DeliveryLogs logs)
    {
        _logs = logs;
    }

    public Task Consume(ConsumeContext<AuctionEnded> context)
    {
        _logs.Get(nameof(NotificationConsumer)).Record(context.Message.AuctionId.ToString());
        return Task.CompletedTask;
    }
}


public class ReportingConsumer :
    IConsumer<AuctionEnded>
{
    readonly DeliveryLogs _logs;

    public ReportingConsumer(DeliveryLogs logs)
    {
        _logs = logs;
    }

    public Task Consume(ConsumeContext<AuctionEnded> context)
    {
        _logs.Get(nameof(ReportingConsumer)).Record(context.Message.AuctionId.ToString());
        return Task.CompletedTask;
    }
}
