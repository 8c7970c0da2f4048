namespace MassTransit.RedisStreams.Transport;

using System;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// Reads an endpoint's new entries through its consumer group, over all its streams at once and oldest first across them,
/// so the endpoint receives them in the order they were appended; see <see cref="Redis.RedisStreamsClient.ReadNew" />.
/// </summary>
sealed class GroupReader
{
    readonly EntryBuffer _buffer;
    readonly RedisStreamsBusContext _bus;
    readonly EndpointStreams _streams;
    RedisKey[] _keys = [];
    ReceiveStream[] _keysOf = [];

    public GroupReader(RedisStreamsBusContext bus, EndpointStreams streams, EntryBuffer buffer)
    {
        _bus = bus;
        _streams = streams;
        _buffer = buffer;
    }

    /// <summary>
    /// Reads up to <paramref name="count" /> new entries into the buffer. With <paramref name="armWake" />, a read that leaves
    /// nothing unread also sets the streams' wake flags for that long.
    /// </summary>
    /// <returns>How many entries were read; fewer than <paramref name="count" /> means none were left.</returns>
    public async Task<int> ReadNew(int count, TimeSpan? armWake)
    {
        var streams = _streams.Streams;
        if (!ReferenceEquals(streams, _keysOf))
        {
            _keys = Array.ConvertAll(streams, x => x.Key);
            _keysOf = streams;
        }

        var reads = await _bus.Client.ReadNew(_keys, _streams.Group, _bus.ConsumerName, count, armWake).ConfigureAwait(false);

        foreach (var read in reads)
        {
            var stream = streams[read.Stream];
            stream.LastReadId = read.Entry.Id;
            _buffer.Add(stream, read.Entry, 1);
        }

        return reads.Count;
    }
}
