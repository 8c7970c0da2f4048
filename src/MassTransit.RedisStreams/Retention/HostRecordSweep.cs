namespace MassTransit.RedisStreams.Retention;

using System;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;


/// <summary>
/// Removes, after a round of every stream, the host records that nothing can name any more, and the streams in
/// <c>delayed-streams</c> that nothing waits for.
/// </summary>
/// <remarks>
/// Every write that names a host record holds it first until a time after the write (see <see cref="Transport.HostRecords" />),
/// and a delayed message holds its record past its due time. So a record whose hold ended before the round began, before the
/// oldest entry of every stream, and before the earliest due time of every delayed message is named by no entry that exists
/// or can still be written. The removal checks the hold in the same step (<c>remove-host-records.lua</c>), so that a record
/// held again meanwhile stays. The cutoff is made a little earlier still, for clocks of Cluster nodes that differ.
/// </remarks>
sealed class HostRecordSweep
{
    /// <summary>Records stored before records were held get this long from the first round that sees them.</summary>
    static readonly TimeSpan UnheldRecordHold = TimeSpan.FromDays(7);

    static readonly TimeSpan MaxClockAllowance = TimeSpan.FromMinutes(1);

    const int RemovalBatch = 1000;

    readonly IHostRecordStore _hosts;
    readonly IDelayedStore _delayed;
    readonly TimeSpan _clockAllowance;

    public HostRecordSweep(IHostRecordStore hosts, IDelayedStore delayed, TimeSpan hold)
    {
        _hosts = hosts;
        _delayed = delayed;
        _clockAllowance = hold / 4 < MaxClockAllowance ? hold / 4 : MaxClockAllowance;
    }

    /// <summary>Begins a round: from now on, every stream it sees tells its oldest entry.</summary>
    public async Task<Round> Begin()
    {
        return new Round((await _hosts.ServerTime().ConfigureAwait(false)).ToUnixTimeMilliseconds());
    }

    /// <summary>
    /// Ends a round whose every stream was seen: forgets the delayed streams nothing waits for, then removes the host records
    /// whose hold ended before everything that is left.
    /// </summary>
    /// <returns>How many delayed streams were forgotten, and how many host records removed.</returns>
    public async Task<(int DelayedStreams, int HostRecords)> Finish(Round round)
    {
        var cutoff = Math.Min(round.StartMs, round.OldestEntryMs);
        var forgotten = 0;

        foreach (var stream in await _delayed.GetStreams().ConfigureAwait(false))
        {
            var (count, nextDue) = await _delayed.GetSummary(stream).ConfigureAwait(false);
            if (nextDue is { } due)
                cutoff = Math.Min(cutoff, due.ToUnixTimeMilliseconds());
            else if (count == 0 && await _delayed.ForgetStreamIfEmpty(stream).ConfigureAwait(false))
                forgotten++;
        }

        await _hosts.HoldUnheld(DateTimeOffset.FromUnixTimeMilliseconds(round.StartMs) + UnheldRecordHold).ConfigureAwait(false);

        cutoff -= (long)_clockAllowance.TotalMilliseconds;
        var removed = 0;
        while (true)
        {
            var batch = (int)await _hosts.RemoveHeldBefore(cutoff, RemovalBatch).ConfigureAwait(false);
            removed += batch;
            if (batch < RemovalBatch)
                break;
        }

        if (forgotten > 0 || removed > 0)
            LogContext.Debug?.Log("Retention removed {Records} host records and forgot {Streams} delayed streams", removed, forgotten);

        return (forgotten, removed);
    }


    /// <summary>One round of every stream: when it began by the server's clock, and the oldest entry seen since.</summary>
    public sealed class Round
    {
        public Round(long startMs)
        {
            StartMs = startMs;
        }

        public long StartMs { get; }

        public long OldestEntryMs { get; private set; } = long.MaxValue;

        /// <summary>Notes the oldest entry of a stream.</summary>
        public void Saw(RedisValue entryId)
        {
            var text = (string?)entryId;
            var dash = text?.IndexOf('-', StringComparison.Ordinal) ?? -1;
            if (dash > 0 && long.TryParse(text.AsSpan(0, dash), out var ms) && ms < OldestEntryMs)
                OldestEntryMs = ms;
        }
    }
}
