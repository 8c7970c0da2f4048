namespace AuctionReplay;

using System;
using System.Threading;
using System.Threading.Tasks;
using MassTransit;


/// <summary>A sales report, built only from replayed events: the projection the log lets you rebuild from the beginning.</summary>
public sealed class SalesReport
{
    readonly object _lock = new();
    long _expected;
    TaskCompletionSource _rebuilt = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Events { get; private set; }
    public long Sold { get; private set; }
    public decimal Total { get; private set; }

    public Task Rebuilt => _rebuilt.Task;

    /// <summary>Starts over, to be rebuilt from <paramref name="expected" /> replayed events.</summary>
    public void Reset(long expected)
    {
        lock (_lock)
        {
            (Events, Sold, Total, _expected) = (0, 0, 0m, expected);
            _rebuilt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (expected == 0)
                _rebuilt.TrySetResult();
        }
    }

    public void Add(AuctionEnded auction)
    {
        lock (_lock)
        {
            Events++;
            if (auction.Winner != null)
            {
                Sold++;
                Total += auction.Amount;
            }

            if (Events == Interlocked.Read(ref _expected))
                _rebuilt.TrySetResult();
        }
    }
}


/// <summary>The receive endpoint <c>sales-report</c>: adds replayed auctions to the report; live ones are not its business.</summary>
public sealed class SalesReportProjection :
    IConsumer<AuctionEnded>
{
    readonly SalesReport _report;

    public SalesReportProjection(SalesReport report)
    {
        _report = report;
    }

    public Task Consume(ConsumeContext<AuctionEnded> context)
    {
        ArgumentNullException.ThrowIfNull(context);

        if (context.TryGetPayload<RedisStreamsMessageContext>(out var redis) && redis.IsReplay)
            _report.Add(context.Message);

        return Task.CompletedTask;
    }
}
