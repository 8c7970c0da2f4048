namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading.Tasks;
using Internals;
using Redis;
using StackExchange.Redis;


/// <summary>
/// The host records of a bus: its own, stored before the first entry that names it and held while the process writes, and
/// those of the processes whose entries it reads, fetched once each and kept.
/// </summary>
/// <remarks>
/// Retention removes a record whose hold (<c>{hosts}:held</c>) ended before every entry and every delayed message of the bus,
/// so every write that names a record holds it first: this process's sends hold its own record (renewed when half the hold
/// has passed); a delayed message holds it past its due time; a copy of someone else's entry (a move to <c>_error</c> or
/// <c>_skipped</c>, a requeue, a replay, a late delayed message) holds the record the copy names.
/// </remarks>
sealed class HostRecords
{
    /// <summary>How long a record stays held after the last write that named it, unless the bus sets another.</summary>
    public static readonly TimeSpan DefaultHold = TimeSpan.FromMinutes(10);

    const int MaxKnown = 10_000;

    readonly IHostRecordStore _store;
    readonly TimeProvider _time;
    readonly ConcurrentDictionary<string, HostRecord> _known;
    readonly ConcurrentDictionary<string, DateTimeOffset> _heldUntil;
    readonly object _lock = new();
    readonly Lazy<HostRecord> _own;
    Task? _storing;
    DateTimeOffset _ownHeldUntil;

    public HostRecords(IHostRecordStore store, Func<Uri?> busAddress, TimeSpan? hold = null, TimeProvider? time = null)
    {
        _store = store;
        _time = time ?? TimeProvider.System;
        Hold = hold ?? DefaultHold;
        _known = new ConcurrentDictionary<string, HostRecord>(StringComparer.Ordinal);
        _heldUntil = new ConcurrentDictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        _own = new Lazy<HostRecord>(() =>
        {
            var record = HostRecord.ForThisProcess(busAddress());
            _known[record.Id] = record;
            return record;
        });
    }

    /// <summary>This process's record.</summary>
    public HostRecord Own => _own.Value;

    /// <summary>How long a write holds the record it names.</summary>
    public TimeSpan Hold { get; }

    /// <summary>
    /// Stores this process's record unless it is, and holds it; every entry that names it is appended after. While more than
    /// half the hold is left this costs nothing; with less, the hold is renewed in the background, and with less than a
    /// quarter the caller waits for it. A failed attempt is made again by the next call.
    /// </summary>
    public Task EnsureOwnStored()
    {
        var left = _ownHeldUntil - _time.GetUtcNow();
        var storing = _storing;
        if (storing is { IsCompletedSuccessfully: true } && left > Hold / 2)
            return storing;

        Task renewal;
        lock (_lock)
        {
            if (_storing == null || _storing.IsCompleted)
                _storing = HoldOwn(Hold);

            renewal = _storing;
        }

        if (left > Hold / 4 && storing is { IsCompletedSuccessfully: true })
        {
            renewal.IgnoreUnobservedExceptions();
            return Task.CompletedTask;
        }

        return renewal;
    }

    /// <summary>Renews the hold of this process's record if it was stored and half the hold has passed: for a process that writes nothing for a while.</summary>
    public Task RenewOwn()
    {
        return _storing is { IsCompletedSuccessfully: true } ? EnsureOwnStored() : Task.CompletedTask;
    }

    /// <summary>
    /// Holds this process's record until a quarter of the hold after <paramref name="due" />, for a delayed message that names it
    /// and is appended then; nothing to do when the record is held that long already.
    /// </summary>
    public async Task EnsureOwnHeldPast(DateTimeOffset due)
    {
        await EnsureOwnStored().ConfigureAwait(false);

        var until = due + Hold / 4;
        if (_ownHeldUntil >= until)
            return;

        await HoldOwn(until - _time.GetUtcNow() + Hold / 4).ConfigureAwait(false);
    }

    async Task HoldOwn(TimeSpan hold)
    {
        var start = _time.GetUtcNow();
        await _store.Hold(hold, [(Own.Id, Own.Json)]).ConfigureAwait(false);

        var until = start + hold;
        lock (_lock)
        {
            if (until > _ownHeldUntil)
                _ownHeldUntil = until;
        }
    }

    /// <summary>
    /// Holds the records that entries about to be copied name (their <c>MT-Host</c> values), unless this process held them
    /// recently: a move to <c>_error</c> or <c>_skipped</c>, a requeue, a replay and a late delayed message write them under a
    /// new entry ID.
    /// </summary>
    public async Task HoldNamed(IEnumerable<RedisValue> hostIds)
    {
        var now = _time.GetUtcNow();
        List<(string, string?)>? records = null;
        HashSet<string>? seen = null;

        foreach (var value in hostIds)
        {
            if (value.IsNullOrEmpty)
                continue;

            var id = (string)value!;
            if (_heldUntil.TryGetValue(id, out var until) && until - now > Hold / 2)
                continue;

            seen ??= new HashSet<string>(StringComparer.Ordinal);
            if (seen.Add(id))
            {
                records ??= [];
                records.Add((id, _known.TryGetValue(id, out var known) ? known.Json : null));
            }
        }

        if (records == null)
            return;

        await _store.Hold(Hold, records).ConfigureAwait(false);

        if (_heldUntil.Count >= MaxKnown)
            _heldUntil.Clear();
        foreach (var (id, _) in records)
            _heldUntil[id] = now + Hold;
    }

    /// <summary>Holds the record <paramref name="entry" /> names, if it names one.</summary>
    public Task HoldNamed(NewEntry entry)
    {
        var id = entry.Get(EntryFieldNames.Host);
        return id.IsNullOrEmpty ? Task.CompletedTask : HoldNamed([id]);
    }

    /// <summary>
    /// The record named <paramref name="id" />, or null when Redis has none. Each is fetched once (a blocking read, the first
    /// time a process meets an entry of another process and asks for its host or implied source address) and then kept.
    /// </summary>
    public HostRecord? Find(string id)
    {
        if (_known.TryGetValue(id, out var record))
            return record;

        record = HostRecord.Parse(id, _store.Get(id));
        if (record != null)
        {
            if (_known.Count >= MaxKnown)
                _known.Clear();

            _known[id] = record;
        }

        return record;
    }
}
