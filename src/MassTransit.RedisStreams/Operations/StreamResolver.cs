namespace MassTransit.RedisStreams.Operations;

using System;
using System.Threading.Tasks;
using History;
using Redis;
using StackExchange.Redis;


/// <summary>A stream an operator names: its key, its name without the key prefix, and what it is.</summary>
/// <param name="Key">The full key, prefix and all.</param>
/// <param name="Name">The entity name of an event stream, or the queue name of a queue, error or skipped stream.</param>
/// <param name="Kind">What the stream is.</param>
/// <param name="Endpoint">The receive endpoint an error or skipped stream belongs to; the queue's own name for a queue.</param>
sealed record OperatedStream(RedisKey Key, string Name, RedisStreamsStreamKind Kind, string? Endpoint)
{
    /// <summary>The stream as the <c>streams</c> table and redis-cli show it without the prefix: <c>events:X</c>, <c>queue:x_error</c>.</summary>
    public string DisplayName => (Kind is RedisStreamsStreamKind.Events or RedisStreamsStreamKind.Faults ? StreamKeys.EventSegment : StreamKeys.QueueSegment) + Name;

    /// <inheritdoc />
    public override string ToString() => DisplayName;
}


/// <summary>
/// Turns the ways an operator names a stream into its key, one rule for every command: the key as redis-cli shows it, with or
/// without the bus's key prefix (<c>shop:events:AuctionEnded</c>, <c>events:AuctionEnded</c>, <c>queue:orders_error</c>); the kind
/// and name the <c>streams</c> table prints, joined by a colon (<c>faults:MassTransit:Fault--X--</c>, <c>error:orders_error</c>,
/// or <c>error:orders</c> for the endpoint's error stream); or a bare name, which is looked up as an event stream and as a queue.
/// </summary>
sealed class StreamResolver
{
    readonly IStreamAdmin _admin;
    readonly StreamKeys _keys;

    public StreamResolver(StreamKeys keys, IStreamAdmin admin)
    {
        _keys = keys;
        _admin = admin;
    }

    /// <summary>
    /// The stream <paramref name="spelling" /> names. A bare name is an event stream's entity name or a queue's name as
    /// <paramref name="bareKind" /> says; without it, whichever of the two exists.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty or ambiguous, or a bare name names no stream.</exception>
    public async Task<OperatedStream> Resolve(string spelling, RedisStreamsStreamKind? bareKind = null)
    {
        if (string.IsNullOrWhiteSpace(spelling))
            throw new ArgumentException("The stream name is empty.", nameof(spelling));

        var text = spelling.Trim();
        if (_keys.Prefix.Length > 0 && text.StartsWith(_keys.Prefix + ":", StringComparison.Ordinal))
            text = text[(_keys.Prefix.Length + 1)..];

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var segment = colon > 0 ? text[..colon].ToLowerInvariant() : "";
        var rest = colon > 0 ? text[(colon + 1)..] : "";
        if (rest.Length > 0)
        {
            switch (segment)
            {
                case "events":
                case "faults":
                    return Event(rest);
                case "queue":
                    return Queue(rest);
                case "error":
                    return Queue(_keys.EndpointOfError(rest) != null ? rest : _keys.ErrorQueueName(rest));
                case "skipped":
                    return Queue(_keys.EndpointOfSkipped(rest) != null ? rest : _keys.SkippedQueueName(rest));
            }
        }

        if (bareKind is RedisStreamsStreamKind.Events or RedisStreamsStreamKind.Faults)
            return Event(text);
        if (bareKind != null)
            return Queue(text);

        var asEvent = Event(text);
        var asQueue = Queue(text);
        var eventExists = await _admin.Exists(asEvent.Key).ConfigureAwait(false);
        var queueExists = await _admin.Exists(asQueue.Key).ConfigureAwait(false);

        return (eventExists, queueExists) switch
        {
            (true, true) => throw new ArgumentException($"'{spelling}' names both {asEvent.DisplayName} and {asQueue.DisplayName}: say which."),
            (true, false) => asEvent,
            (false, true) => asQueue,
            _ => throw new ArgumentException($"there is no stream {asEvent.Key} and no stream {asQueue.Key}.")
        };
    }

    /// <summary>The event stream of an entity name.</summary>
    public OperatedStream Event(string entityName) =>
        new(_keys.Events(entityName), entityName, StreamInspector.EventKind(entityName), null);

    /// <summary>A queue stream by its name: an endpoint's queue, or an error or skipped stream by the bus's name formatters.</summary>
    public OperatedStream Queue(string queueName)
    {
        if (_keys.EndpointOfError(queueName) is { } failed)
            return new OperatedStream(_keys.Queue(queueName), queueName, RedisStreamsStreamKind.Error, failed);

        return _keys.EndpointOfSkipped(queueName) is { } skipped
            ? new OperatedStream(_keys.Queue(queueName), queueName, RedisStreamsStreamKind.Skipped, skipped)
            : new OperatedStream(_keys.Queue(queueName), queueName, RedisStreamsStreamKind.Queue, queueName);
    }

    /// <summary>The stream a full key is, or null when the key is no stream of this prefix.</summary>
    public OperatedStream? OfKey(RedisKey key) =>
        _keys.EntityNameOf(key) is { } entityName ? Event(entityName)
        : _keys.QueueNameOf(key) is { } queueName ? Queue(queueName)
        : null;
}
