namespace MassTransit.RedisStreams.Redis;

using System;
using System.Threading;
using System.Threading.Tasks;


/// <summary>
/// The delay between attempts after a failure: <c>first</c>, doubling up to <c>max</c>. Every retry loop of the transport
/// uses one.
/// </summary>
struct Backoff
{
    readonly TimeSpan _first;
    readonly TimeSpan _max;
    TimeSpan _next;

    public Backoff(TimeSpan first, TimeSpan max)
    {
        _first = first;
        _max = max;
        _next = first;
    }

    /// <summary>The delay the next <see cref="Wait" /> will take.</summary>
    public readonly TimeSpan Next => _next;

    /// <summary>Back to the first delay, after a success.</summary>
    public void Reset() => _next = _first;

    /// <summary>Waits the next delay and doubles it; returns early, without throwing, when <paramref name="cancellationToken" /> fires.</summary>
    public Task Wait(CancellationToken cancellationToken)
    {
        // Not async: the doubling must change this struct, not a copy of it.
        var delay = _next;
        _next = TimeSpan.FromTicks(Math.Min(_next.Ticks * 2, _max.Ticks));

        return Delay(delay, cancellationToken);
    }

    static async Task Delay(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
