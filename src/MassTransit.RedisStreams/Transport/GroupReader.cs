namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// Reads an endpoint's streams through its consumer group (XREADGROUP, never blocking) and hands what it reads to the
/// endpoint: new entries, shared fairly between the streams, and the entries this consumer was given before but never
/// acknowledged.
/// </summary>
sealed class GroupReader
{
    const string NewEntries = ">";

    readonly RedisStreamsBroker _broker;
    readonly PendingEntryKeeper _keeper;
    readonly IEntrySink _sink;
    readonly EndpointStreams _streams;
    int _rotation;

    public GroupReader(RedisStreamsBroker broker, EndpointStreams streams, PendingEntryKeeper keeper, IEntrySink sink)
    {
        _broker = broker;
        _streams = streams;
        _keeper = keeper;
        _sink = sink;
    }

    /// <summary>
    /// Reads new entries (XREADGROUP ... &gt;) from the streams that may have some — or from every stream — sharing
    /// <paramref name="capacity" /> between them and rotating who gets the remainder, so a busy stream cannot starve the
    /// others. The reads are pipelined.
    /// </summary>
    /// <returns>How many entries were read.</returns>
    public async Task<int> ReadNew(int capacity, bool everyStream)
    {
        var streams = _streams.Streams;

        var candidates = new List<ReceiveStream>(streams.Length);
        foreach (var stream in streams)
        {
            if (everyStream || stream.MaybeHasEntries)
                candidates.Add(stream);
        }

        if (candidates.Count == 0)
            return 0;

        var share = capacity / candidates.Count;
        var remainder = capacity % candidates.Count;
        var start = _rotation++ & int.MaxValue;
        var consumer = _broker.ConsumerName;

        var reads = new List<(ReceiveStream Stream, int Count, long Version, Task<StreamEntry[]> Read)>(candidates.Count);
        for (var i = 0; i < candidates.Count; i++)
        {
            var stream = candidates[(start + i) % candidates.Count];
            var count = share + (i < remainder ? 1 : 0);
            if (count == 0)
                continue;

            var version = stream.ReadVersion;
            reads.Add((stream, count, version, _broker.Client.ReadGroup(stream.Key, _streams.Group, consumer, NewEntries, count)));
        }

        var total = 0;
        Exception? failure = null;
        foreach (var (stream, count, version, read) in reads)
        {
            StreamEntry[] entries;
            try
            {
                entries = await read.ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                // The other reads may have returned entries that are now pending for this consumer: hand them on first.
                failure ??= exception;
                continue;
            }

            if (entries.Length < count)
                stream.MarkDrained(version);

            foreach (var entry in entries)
            {
                stream.LastReadId = entry.Id;
                _sink.Enqueue(stream, entry, 1);
            }

            total += entries.Length;
        }

        if (failure != null)
            throw failure;

        return total;
    }

    /// <summary>
    /// Reads the entries this consumer was given earlier but never acknowledged (XREADGROUP ... 0): after a restart under the
    /// same consumer name, or after a connection drop swallowed an XREADGROUP reply. Waits for room as it goes.
    /// </summary>
    public async Task ReadOwnPending(CancellationToken cancellationToken)
    {
        foreach (var stream in _streams.Streams)
        {
            RedisValue position = "0";
            while (!cancellationToken.IsCancellationRequested)
            {
                while (_sink.FreeCapacity <= 0)
                    await _sink.WaitForCapacity(cancellationToken).ConfigureAwait(false);

                var entries = await _broker.Client.ReadGroup(stream.Key, _streams.Group, _broker.ConsumerName, position, _sink.FreeCapacity)
                    .ConfigureAwait(false);

                if (entries.Length == 0)
                    break;

                var gone = new List<RedisValue>();
                var present = new List<StreamEntry>(entries.Length);
                foreach (var entry in entries)
                {
                    // An entry deleted or trimmed while pending comes back without fields; there is nothing left to deliver.
                    if (entry.Values is { Length: > 0 })
                        present.Add(entry);
                    else
                        gone.Add(entry.Id);
                }

                if (gone.Count > 0)
                {
                    await _broker.Client.Acknowledge(stream.Key, _streams.Group, gone.ToArray()).ConfigureAwait(false);
                    _keeper.CountGone(stream.Key, gone.Count);
                }

                // Reading its own pending entries counted a delivery; XPENDING tells how many there were.
                var counts = await _keeper.GetDeliveryCounts(stream, present).ConfigureAwait(false);
                foreach (var entry in present)
                    _sink.Enqueue(stream, entry, counts.TryGetValue(entry.Id, out var count) ? count : 2);

                position = entries[^1].Id;
            }
        }
    }
}
