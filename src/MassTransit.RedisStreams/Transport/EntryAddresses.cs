namespace MassTransit.RedisStreams.Transport;

using System;
using Redis;
using StackExchange.Redis;


/// <summary>
/// The addresses an entry implies rather than carries, the same wherever it is read: its own queue, <c>_error</c>,
/// <c>_skipped</c>, the history, a replay or a requeue.
/// </summary>
static class EntryAddresses
{
    /// <summary>
    /// Where a message was sent, as MassTransit's envelope records it (<see cref="MessageContext.DestinationAddress" />): the
    /// stream it was first appended to — the one a move to <c>_error</c> or <c>_skipped</c> records in
    /// <c>MT-Redis-Source-Stream</c>, the one a replay records in <c>MT-Redis-Replay-Stream</c>, or else the one it is read
    /// from — as an endpoint address for a queue and a topic address for an event stream.
    /// </summary>
    /// <param name="entry">The entry.</param>
    /// <param name="stream">The stream it is read from.</param>
    /// <param name="keys">The key layout of the bus that reads it.</param>
    /// <param name="host">The host address of the bus that reads it.</param>
    /// <param name="inputAddress">
    /// The address of the endpoint that reads it, when <paramref name="stream" /> is that endpoint's queue: what an entry sent
    /// there was sent to, query and all (a temporary endpoint's <c>?temporary=true</c>).
    /// </param>
    public static Uri? DestinationOf(StreamEntry entry, RedisKey stream, StreamKeys keys, RedisStreamsHostAddress host, Uri? inputAddress = null)
    {
        var first = EntryFields.Get(entry, EntryFieldNames.SourceStreamBytes);
        if (first.IsNullOrEmpty)
            first = EntryFields.Get(entry, EntryFieldNames.ReplayedStreamBytes);

        if (first.IsNullOrEmpty)
            return AddressOfOwn(stream, keys, host, inputAddress);

        return AddressOf((string)first!, keys, host) ?? AddressOf(stream, keys, host);
    }

    /// <summary>
    /// As <see cref="DestinationOf(StreamEntry,RedisKey,StreamKeys,RedisStreamsHostAddress,Uri)" /> for an entry a receive
    /// endpoint read: the address of the stream itself, the same for nearly every entry, is made once per stream.
    /// </summary>
    public static Uri? DestinationOf(StreamEntry entry, ReceiveStream stream, StreamKeys keys, RedisStreamsHostAddress host, Uri? inputAddress)
    {
        var first = EntryFields.Get(entry, EntryFieldNames.SourceStreamBytes);
        if (first.IsNullOrEmpty)
            first = EntryFields.Get(entry, EntryFieldNames.ReplayedStreamBytes);

        if (first.IsNullOrEmpty)
            return stream.Address ??= AddressOfOwn(stream.Key, keys, host, inputAddress);

        return AddressOf((string)first!, keys, host) ?? AddressOf(stream.Key, keys, host);
    }

    static Uri? AddressOfOwn(RedisKey stream, StreamKeys keys, RedisStreamsHostAddress host, Uri? inputAddress) =>
        keys.QueueNameOf(stream) != null && inputAddress != null ? inputAddress : AddressOf(stream, keys, host);

    /// <summary>The address of a stream of the bus: topic for an event stream, endpoint for a queue; null for another key.</summary>
    static Uri? AddressOf(RedisKey stream, StreamKeys keys, RedisStreamsHostAddress host)
    {
        if (keys.EntityNameOf(stream) is { } entityName)
            return new RedisStreamsEndpointAddress(host, entityName, AddressKind.Topic);

        return keys.QueueNameOf(stream) is { } queueName ? new RedisStreamsEndpointAddress(host, queueName) : null;
    }
}
