namespace MassTransit.RedisStreams.Operations;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;


/// <summary>
/// What an operator does to the entries of a stream — move them back to where they were sent or to another queue, delete
/// them, empty the stream — each planned first (what would happen, changing nothing) and then done. For the command line and
/// a dashboard alike: no console in here.
/// </summary>
sealed class EntryOperations
{
    const int BatchSize = 100;

    readonly Transport.HostRecords _hosts;
    readonly RedisGateway _redis;
    readonly EntryReader _reader;

    public EntryOperations(RedisGateway redis)
    {
        _redis = redis;
        _hosts = new Transport.HostRecords(redis.Hosts, () => null);
        _reader = new EntryReader(redis.Admin);
        Resolver = new StreamResolver(redis.Keys, redis.Admin);
    }

    public StreamResolver Resolver { get; }

    /// <summary>The selected entries, oldest first.</summary>
    public IAsyncEnumerable<StoredEntry> Read(OperatedStream stream, EntrySelection selection, CancellationToken cancellationToken = default) =>
        _reader.Read(stream.Key, selection, cancellationToken);

    /// <summary>
    /// Where an entry goes back to when no target is given: the queue it was read from when it was moved here
    /// (<c>MT-Redis-Source-Stream</c>); for an entry that came from an event stream, its endpoint's queue — appending it to the
    /// event stream again would deliver it to every subscriber. Null when neither is known.
    /// </summary>
    public OperatedStream? OriginalDestination(OperatedStream from, StoredEntry entry)
    {
        if (entry.SourceStream is { Length: > 0 } source && Resolver.OfKey(source) is { Kind: RedisStreamsStreamKind.Queue } queue)
            return queue;

        return from.Kind is RedisStreamsStreamKind.Error or RedisStreamsStreamKind.Skipped && from.Endpoint != null ? Resolver.Queue(from.Endpoint) : null;
    }

    /// <summary>What <see cref="Move" /> would do now: each selected entry with its target. Changes nothing.</summary>
    public async Task<MovePlan> PlanMove(OperatedStream from, EntrySelection selection, OperatedStream? to, CancellationToken cancellationToken = default)
    {
        Check(from, to);

        var moves = new List<PlannedMove>();
        await foreach (var entry in Read(from, selection, cancellationToken).ConfigureAwait(false))
            moves.Add(new PlannedMove(entry.Id.ToString(), to ?? OriginalDestination(from, entry)));

        var atomic = true;
        foreach (var target in moves.Select(x => x.Target).OfType<OperatedStream>().Distinct())
            atomic &= await _redis.Moves.IsAtomic(from.Key, target.Key).ConfigureAwait(false);

        return new MovePlan(from, moves, atomic);
    }

    /// <summary>
    /// Moves the selected entries, oldest first, to <paramref name="to" /> or each to its <see cref="OriginalDestination" />, as
    /// they were sent (see <see cref="StoredEntry.FieldsAsSent" />); an entry with no destination stays where it is. Each entry
    /// is appended and deleted in one step where both streams share a hash slot, else appended first (see
    /// <see cref="IStreamMoves.Move" />).
    /// </summary>
    /// <param name="from">The stream to move from.</param>
    /// <param name="selection">Which entries.</param>
    /// <param name="to">The target for every entry, or null for each entry's original destination.</param>
    /// <param name="progress">Told the number of entries done so far.</param>
    /// <param name="cancellationToken">Stops between batches; what was moved stays moved.</param>
    public async Task<MoveResult> Move(OperatedStream from, EntrySelection selection, OperatedStream? to, IProgress<long>? progress = null,
        CancellationToken cancellationToken = default)
    {
        Check(from, to);

        var result = new MoveResult();
        var batch = new List<StoredEntry>(BatchSize);
        await foreach (var entry in Read(from, selection, cancellationToken).ConfigureAwait(false))
        {
            batch.Add(entry);
            if (batch.Count < BatchSize)
                continue;

            await MoveBatch(from, to, batch, result).ConfigureAwait(false);
            progress?.Report(result.Done);
        }

        await MoveBatch(from, to, batch, result).ConfigureAwait(false);
        progress?.Report(result.Done);

        return result;
    }

    async Task MoveBatch(OperatedStream from, OperatedStream? to, List<StoredEntry> batch, MoveResult result)
    {
        foreach (var group in batch.GroupBy(x => to ?? OriginalDestination(from, x)))
        {
            if (group.Key is not { } target)
            {
                result.Unroutable.AddRange(group.Select(x => x.Id.ToString()));
                continue;
            }

            var entries = group.Select(x => ((RedisValue)x.Id.ToString(), x.FieldsAsSent())).ToList();

            // The moved copies name their writers' host records under new entry IDs: held first, so that retention keeps them.
            await _hosts.HoldNamed(group.Select(x => x.Entry[Transport.EntryFieldNames.Host])).ConfigureAwait(false);

            var moved = await _redis.Moves.Move(from.Key, target.Key, entries).ConfigureAwait(false);
            for (var i = 0; i < moved.Length; i++)
            {
                if (moved[i] is { } newId)
                    result.Moved.Add(new MovedEntry(entries[i].Item1.ToString(), target, newId));
                else
                    result.Missing++;
            }
        }

        batch.Clear();
    }

    /// <summary>The IDs of the selected entries: what <see cref="Delete" /> would remove now. Changes nothing.</summary>
    public async Task<IReadOnlyList<string>> PlanDelete(OperatedStream from, EntrySelection selection, CancellationToken cancellationToken = default)
    {
        var ids = new List<string>();
        await foreach (var entry in Read(from, selection, cancellationToken).ConfigureAwait(false))
            ids.Add(entry.Id.ToString());

        return ids;
    }

    /// <summary>Deletes the selected entries (XDEL), a batch at a time; returns how many were deleted.</summary>
    public async Task<long> Delete(OperatedStream from, EntrySelection selection, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        long deleted = 0;
        var batch = new List<RedisValue>(BatchSize);
        await foreach (var entry in Read(from, selection, cancellationToken).ConfigureAwait(false))
        {
            batch.Add(entry.Id.ToString());
            if (batch.Count < BatchSize)
                continue;

            deleted += await _redis.Admin.Delete(from.Key, batch.ToArray()).ConfigureAwait(false);
            batch.Clear();
            progress?.Report(deleted);
        }

        if (batch.Count > 0)
            deleted += await _redis.Admin.Delete(from.Key, batch.ToArray()).ConfigureAwait(false);
        progress?.Report(deleted);

        return deleted;
    }

    /// <summary>What <see cref="Purge" /> would remove, and the groups that have entries delivered and not yet acknowledged.</summary>
    public async Task<PurgePlan> PlanPurge(OperatedStream stream)
    {
        var info = await _redis.Admin.GetStreamInfo(stream.Key).ConfigureAwait(false)
            ?? throw new ArgumentException($"there is no stream {stream.Key}.");
        var groups = await _redis.Admin.GetGroups(stream.Key).ConfigureAwait(false);

        return new PurgePlan(stream, info.Length, groups.Where(x => x.PendingMessageCount > 0).Select(x => (x.Name, (long)x.PendingMessageCount)).ToArray());
    }

    /// <summary>Removes every entry and keeps the stream with its consumer groups (XTRIM MAXLEN 0); returns how many it removed.</summary>
    public Task<long> Purge(OperatedStream stream) => _redis.Admin.RemoveAllEntries(stream.Key);

    static void Check(OperatedStream from, OperatedStream? to)
    {
        if (to != null && to.Key == from.Key)
            throw new ArgumentException($"the entries are in {from.DisplayName} already: name another stream to move them to.");
        if (to != null && to.Kind is RedisStreamsStreamKind.Events or RedisStreamsStreamKind.Faults)
            throw new ArgumentException($"entries are moved to queues, not to the event stream {to.DisplayName}: a copy there would go to every subscriber.");
    }
}


/// <summary>An entry <see cref="EntryOperations.Move" /> would move, and where; no target when it has no known destination.</summary>
sealed record PlannedMove(string Id, OperatedStream? Target);


/// <summary>What a move would do.</summary>
/// <param name="From">The stream the entries are in.</param>
/// <param name="Moves">Each selected entry, oldest first.</param>
/// <param name="Atomic">True when every entry would be appended and deleted in one step.</param>
sealed record MovePlan(OperatedStream From, IReadOnlyList<PlannedMove> Moves, bool Atomic);


/// <summary>An entry moved: its ID where it was, where it went, and its ID there.</summary>
sealed record MovedEntry(string Id, OperatedStream Target, string NewId);


/// <summary>What a move did.</summary>
sealed class MoveResult
{
    public List<MovedEntry> Moved { get; } = [];

    /// <summary>Selected entries with no destination known, left where they are.</summary>
    public List<string> Unroutable { get; } = [];

    /// <summary>Selected entries that were gone when their turn came: another operator moved or deleted them.</summary>
    public long Missing { get; set; }

    public long Done => Moved.Count + Unroutable.Count + Missing;
}


/// <summary>What a purge would remove, and the groups with pending entries a purge would leave without their messages.</summary>
sealed record PurgePlan(OperatedStream Stream, long Length, IReadOnlyList<(string Group, long Pending)> GroupsWithPending);
