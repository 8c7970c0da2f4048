namespace AuctionWeb;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;


/// <summary>The auctions this process saw closed, newest first; what <c>GET /sales</c> shows. In memory, for the demo.</summary>
public sealed class SalesLog
{
    readonly ConcurrentDictionary<Guid, AuctionClosed> _closed = new();

    public void Add(AuctionClosed closed) => _closed[closed.AuctionId] = closed;

    public bool Contains(Guid auctionId) => _closed.ContainsKey(auctionId);

    public IReadOnlyList<AuctionClosed> Recent(int count) => _closed.Values.OrderByDescending(x => x.ClosedAt).Take(count).ToList();
}
