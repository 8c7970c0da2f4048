namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Concurrent;
using System.Threading.Tasks;
using Redis;


/// <summary>
/// The host records of a bus: its own, stored once before the first entry that names it, and those of the processes whose
/// entries it reads, fetched once each and kept.
/// </summary>
sealed class HostRecords
{
    const int MaxKnown = 10_000;

    readonly IHostRecordStore _store;
    readonly ConcurrentDictionary<string, HostRecord> _known;
    readonly object _lock = new();
    readonly Lazy<HostRecord> _own;
    Task? _storing;

    public HostRecords(IHostRecordStore store, Func<Uri?> busAddress)
    {
        _store = store;
        _known = new ConcurrentDictionary<string, HostRecord>(StringComparer.Ordinal);
        _own = new Lazy<HostRecord>(() =>
        {
            var record = HostRecord.ForThisProcess(busAddress());
            _known[record.Id] = record;
            return record;
        });
    }

    /// <summary>This process's record.</summary>
    public HostRecord Own => _own.Value;

    /// <summary>
    /// Stores this process's record unless that was done already; every entry that names it is appended after. A failed
    /// attempt is made again by the next call.
    /// </summary>
    public Task EnsureOwnStored()
    {
        var storing = _storing;
        if (storing is { IsCompletedSuccessfully: true })
            return storing;

        lock (_lock)
        {
            if (_storing == null || _storing.IsFaulted || _storing.IsCanceled)
                _storing = _store.Store(Own.Id, Own.Json);

            return _storing;
        }
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
