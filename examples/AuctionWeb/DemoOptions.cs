namespace AuctionWeb;

using System;


/// <summary>The <c>Demo</c> section: whether the app opens auctions by itself, how often, and how long they run.</summary>
public sealed class DemoOptions
{
    /// <summary>Open an auction every <see cref="AutoOpenInterval" />, so that there is something to watch.</summary>
    public bool AutoOpen { get; set; }

    public TimeSpan AutoOpenInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an auction takes bids, unless <c>POST /auctions</c> says otherwise.</summary>
    public TimeSpan AuctionDuration { get; set; } = TimeSpan.FromSeconds(30);
}
