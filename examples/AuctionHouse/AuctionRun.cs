namespace AuctionHouse;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;


/// <summary>
/// This run of the example: the auctions it publishes and which consumer has handled which of them. The stream keeps the
/// events of earlier runs, so only the auctions published by this run are counted. <see cref="Completed" /> finishes once
/// every consumer has handled every one of them.
/// </summary>
public sealed class AuctionRun
{
    /// <summary>The message header the auction service tags each event with; it becomes a field of the stream entry.</summary>
    public const string RunIdHeader = "RunId";

    readonly ConcurrentDictionary<Guid, byte> _auctions = new();
    readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly Dictionary<string, ConcurrentDictionary<Guid, byte>> _handled;

    public AuctionRun(params string[] consumers)
    {
        _handled = consumers.ToDictionary(x => x, _ => new ConcurrentDictionary<Guid, byte>(), StringComparer.Ordinal);
    }

    /// <summary>A short ID that tells this run's events from those of earlier runs.</summary>
    public string RunId { get; } = Guid.NewGuid().ToString("N")[..12];

    /// <summary>Completes when every consumer has handled every auction of this run.</summary>
    public Task Completed => _completed.Task;

    public int Expected => _auctions.Count;

    /// <summary>Records the auctions this run is about to publish; call it before publishing them.</summary>
    public void Expect(IEnumerable<Guid> auctionIds)
    {
        ArgumentNullException.ThrowIfNull(auctionIds);

        foreach (var id in auctionIds)
            _auctions.TryAdd(id, 0);
    }

    /// <summary>Whether the auction is one of this run's, rather than an event left in the stream by an earlier run.</summary>
    public bool IsThisRun(Guid auctionId) => _auctions.ContainsKey(auctionId);

    /// <summary>Records that <paramref name="consumer" /> handled one of this run's auctions.</summary>
    public void Handled(string consumer, Guid auctionId)
    {
        if (!IsThisRun(auctionId))
            return;

        _handled[consumer].TryAdd(auctionId, 0);

        if (!_auctions.IsEmpty && _handled.Values.All(x => x.Count >= _auctions.Count))
            _completed.TrySetResult();
    }

    /// <summary>For messages: e.g. <c>notification 5/5, reporting 3/5</c>.</summary>
    public string Progress()
    {
        return string.Join(", ", _handled.Select(x => $"{x.Key} {x.Value.Count}/{_auctions.Count}"));
    }
}


/// <summary>The running total the reporting consumer keeps for this run.</summary>
public sealed class SalesLedger
{
    readonly object _lock = new();
    int _sold;
    int _unsold;
    decimal _total;

    /// <summary>Adds one closed auction and returns the totals so far.</summary>
    public (int Sold, int Unsold, decimal Total) Add(AuctionEnded auction)
    {
        ArgumentNullException.ThrowIfNull(auction);

        lock (_lock)
        {
            if (auction.Winner is null)
                _unsold++;
            else
            {
                _sold++;
                _total += auction.Amount;
            }

            return (_sold, _unsold, _total);
        }
    }
}
