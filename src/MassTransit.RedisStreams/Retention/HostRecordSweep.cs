namespace MassTransit.RedisStreams.Retention;

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;
using Transport;


/// <summary>
/// After a round of every stream, forgets the streams in <c>delayed-streams</c> that nothing waits for, and removes the host
/// records that nothing names any more.
/// </summary>
/// <remarks>
/// Every write that names a host record holds the record first, until a time after the write (see <see cref="HostRecords" />);
/// a delayed message holds it past its due time. So an entry that names a record has an ID no later than the record's hold
/// (give or take the clocks of Cluster nodes), and a record whose hold ended before the round began and before the earliest
/// due time of every delayed message is a candidate: no new entry can name it. A candidate goes when no entry of any stream up
/// to its hold names it. Each stream is read up to the latest candidate's hold, at most <see cref="ScanLimit" /> entries a round,
/// going on from what earlier rounds read; where more are left, only candidates held until before the last entry read are
/// decided. The removal checks each hold again in the same step (<c>remove-host-records.lua</c>), so that a record held
/// again since (a copy about to name it) stays.
/// </remarks>
sealed class HostRecordSweep
{
    /// <summary>The most entries of one stream a round reads to find the host records they name.</summary>
    public const int ScanLimit = 1000;

    /// <summary>Records stored before records were held get this long from the first round that sees them.</summary>
    static readonly TimeSpan UnheldRecordHold = TimeSpan.FromDays(7);

    static readonly TimeSpan MaxClockAllowance = TimeSpan.FromMinutes(1);

    const int CandidateLimit = 10_000;
    const int MaxStreamsRead = 100_000;
    const int RemovalBatch = 500;

    readonly IHostRecordStore _hosts;
    readonly IDelayedStore _delayed;
    readonly IStreamAdmin _admin;
    readonly long _allowanceMs;
    readonly Dictionary<RedisKey, StreamRead> _read = new();

    public HostRecordSweep(RedisGateway redis, TimeSpan hold)
    {
        _hosts = redis.Hosts;
        _delayed = redis.Delayed;
        _admin = redis.Admin;
        _allowanceMs = (long)(hold / 4 < MaxClockAllowance ? hold / 4 : MaxClockAllowance).TotalMilliseconds;
    }

    /// <summary>Begins a round: from now on, it collects every stream the scans return.</summary>
    public async Task<Round> Begin()
    {
        return new Round((await _hosts.ServerTime().ConfigureAwait(false)).ToUnixTimeMilliseconds());
    }

    /// <summary>Ends a round whose scans returned every stream.</summary>
    /// <returns>How many delayed streams were forgotten, and how many host records removed.</returns>
    public async Task<(int DelayedStreams, int HostRecords)> Finish(Round round)
    {
        var (forgotten, earliestDue) = await ForgetEmptyDelayedStreams(forget: true).ConfigureAwait(false);

        await _hosts.HoldUnheld(DateTimeOffset.FromUnixTimeMilliseconds(round.StartMs) + UnheldRecordHold).ConfigureAwait(false);

        var (cutoff, unnamed) = await Unnamed(round, earliestDue).ConfigureAwait(false);
        var removed = 0;
        for (var i = 0; i < unnamed.Count; i += RemovalBatch)
            removed += (int)await _hosts.Remove(cutoff, unnamed.GetRange(i, Math.Min(RemovalBatch, unnamed.Count - i))).ConfigureAwait(false);

        if (forgotten > 0 || removed > 0)
            LogContext.Debug?.Log("Retention removed {Records} host records and forgot {Streams} delayed streams", removed, forgotten);

        return (forgotten, removed);
    }

    /// <summary>
    /// What <see cref="Finish" /> would do now, changing nothing in Redis: the delayed streams it would forget, the host records
    /// it would remove (each is checked again when it is removed, so a record held again meanwhile stays), and the records
    /// stored without a hold that it would give one (they can go in a later round).
    /// </summary>
    public async Task<(int DelayedStreams, int HostRecords, long Unheld)> Plan(Round round)
    {
        var (forgettable, earliestDue) = await ForgetEmptyDelayedStreams(forget: false).ConfigureAwait(false);
        var unheld = await _hosts.CountUnheld().ConfigureAwait(false);

        // Records without a hold get one past the round's start: never candidates of this round.
        var (_, unnamed) = await Unnamed(round, earliestDue).ConfigureAwait(false);
        return (forgettable, unnamed.Count, unheld);
    }

    /// <summary>The held records that no entry names, and the hold before which each must still end when it is removed.</summary>
    async Task<(long Cutoff, List<string> Unnamed)> Unnamed(Round round, long earliestDue)
    {
        var cutoff = Math.Min(round.StartMs, earliestDue) - _allowanceMs;
        var candidates = await _hosts.GetHeldBefore(cutoff, CandidateLimit).ConfigureAwait(false);
        if (candidates.Length == 0)
            return (cutoff, []);

        var horizon = (long)candidates.Max(x => x.Score) + _allowanceMs;
        var named = new HashSet<string>(StringComparer.Ordinal);

        foreach (var stream in round.Streams)
        {
            var (names, readUntilMs) = await NamesOf(stream, horizon).ConfigureAwait(false);
            named.UnionWith(names);

            // More than the limit: an entry after the last one read may name a candidate held until after it.
            if (readUntilMs - _allowanceMs < cutoff)
                cutoff = readUntilMs - _allowanceMs;
        }

        return (cutoff, candidates.Where(x => x.Score < cutoff && !named.Contains((string)x.Element!)).Select(x => (string)x.Element!).ToList());
    }

    /// <summary>
    /// The host records the entries of <paramref name="stream" /> up to <paramref name="horizonMs" /> name, and up to when that
    /// is known: the largest value when every such entry was read, else the time of the last one read. What was read is kept
    /// from round to round, as each name with the last entry read that has it: entries up to the last one read can only be
    /// deleted since, never added, so a round reads on from there (at most <see cref="ScanLimit" /> entries) and forgets the
    /// names whose last entry is older than the stream's oldest. A log kept whole is read once, then only what was appended.
    /// </summary>
    async Task<(IEnumerable<string> Names, long ReadUntilMs)> NamesOf(RedisKey stream, long horizonMs)
    {
        var horizon = new StreamEntryId((ulong)horizonMs, ulong.MaxValue);
        var first = await _admin.Range(stream, "-", horizon.ToString(), 1).ConfigureAwait(false);
        if (first.Length == 0)
        {
            _read.Remove(stream);
            return ([], long.MaxValue);
        }

        var oldest = StreamEntryId.Parse(first[0].Id);
        if (!_read.TryGetValue(stream, out var read) || read.Position < oldest)
        {
            // Nothing read yet, or everything read is gone: from the oldest entry.
            if (_read.Count >= MaxStreamsRead)
                _read.Clear();
            _read[stream] = read = new StreamRead { Position = oldest.Previous };
        }
        else
        {
            foreach (var gone in read.Names.Where(x => x.Value < oldest).Select(x => x.Key).ToList())
                read.Names.Remove(gone);
        }

        if (read.Position < horizon)
        {
            var entries = await _admin.Range(stream, "(" + read.Position, horizon.ToString(), ScanLimit).ConfigureAwait(false);
            foreach (var entry in entries)
            {
                var host = entry[EntryFieldNames.Host];
                if (!host.IsNullOrEmpty)
                    read.Names[(string)host!] = StreamEntryId.Parse(entry.Id);
            }

            // All of it up to the horizon: entries appended later have later IDs.
            read.Position = entries.Length < ScanLimit ? horizon : StreamEntryId.Parse(entries[^1].Id);
        }

        return (read.Names.Keys, read.Position >= horizon ? long.MaxValue : (long)read.Position.Milliseconds);
    }

    /// <summary>
    /// Forgets the delayed streams nothing waits for (with <paramref name="forget" /> false, only counts them); the earliest due
    /// time of the others, or the largest value when none.
    /// </summary>
    async Task<(int Forgotten, long EarliestDueMs)> ForgetEmptyDelayedStreams(bool forget)
    {
        var forgotten = 0;
        var earliest = long.MaxValue;

        foreach (var stream in await _delayed.GetStreams().ConfigureAwait(false))
        {
            var (count, nextDue) = await _delayed.GetSummary(stream).ConfigureAwait(false);
            if (nextDue is { } due)
                earliest = Math.Min(earliest, due.ToUnixTimeMilliseconds());
            else if (count == 0 && (!forget || await _delayed.ForgetStreamIfEmpty(stream).ConfigureAwait(false)))
                forgotten++;
        }

        return (forgotten, earliest);
    }

    /// <summary>What was read of a stream: every entry up to <see cref="Position" />, and each name with the last of them that has it.</summary>
    sealed class StreamRead
    {
        public StreamEntryId Position;
        public readonly Dictionary<string, StreamEntryId> Names = new(StringComparer.Ordinal);
    }


    /// <summary>One round of every stream: when it began by the server's clock, and the streams its scans returned.</summary>
    public sealed class Round
    {
        readonly HashSet<RedisKey> _streams = [];

        public Round(long startMs)
        {
            StartMs = startMs;
        }

        public long StartMs { get; }

        public IReadOnlyCollection<RedisKey> Streams => _streams;

        public void Saw(RedisKey stream) => _streams.Add(stream);
    }
}
