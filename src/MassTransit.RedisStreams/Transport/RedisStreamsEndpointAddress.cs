namespace MassTransit.RedisStreams.Transport;

using System;
using System.Text;
using Redis;
using StackExchange.Redis;


/// <summary>
/// An endpoint address: <c>redis://host:port/[prefix/]name[?type=topic|exchange][&amp;temporary=true]</c>, also written in the
/// short forms <c>queue:name</c>, <c>topic:entity</c> and <c>exchange:name</c>, which take host and prefix from the bus.
/// </summary>
/// <remarks>
/// Other query parameters — RabbitMQ's <c>bind=true</c>, <c>queue=</c>, <c>durable=</c> and the like, which MassTransit adds to
/// addresses it builds — are ignored, and so are empty path segments (<c>redis://host/prefix//name</c>).
/// </remarks>
readonly struct RedisStreamsEndpointAddress
{
    public const string Scheme = "redis";

    public RedisStreamsEndpointAddress(RedisStreamsHostAddress host, string name, AddressKind kind = AddressKind.Queue, bool temporary = false)
    {
        Host = host;
        Name = name;
        Kind = kind;
        Temporary = temporary;
    }

    public RedisStreamsHostAddress Host { get; }

    /// <summary>The queue name, or the entity name of a message type for a topic.</summary>
    public string Name { get; }

    public AddressKind Kind { get; }

    /// <summary>A temporary endpoint's stream is deleted when it stops and expires when its owner dies.</summary>
    public bool Temporary { get; }

    /// <summary>
    /// The queue stream, or the event stream of a topic. An exchange address names one or the other depending on the message
    /// (see <see cref="AddressKind.Exchange" />); this is its queue stream.
    /// </summary>
    public RedisKey GetStreamKey() => Kind == AddressKind.Topic ? GetEventStreamKey() : GetQueueKey();

    /// <summary>The queue stream of the endpoint called <see cref="Name" />.</summary>
    public RedisKey GetQueueKey() => new StreamKeys(Host.Prefix).Queue(Name);

    /// <summary>The event stream of the message type whose entity name is <see cref="Name" />.</summary>
    public RedisKey GetEventStreamKey() => new StreamKeys(Host.Prefix).Events(Name);

    public static RedisStreamsEndpointAddress Parse(RedisStreamsHostAddress host, Uri address)
    {
        ArgumentNullException.ThrowIfNull(address);

        switch (address.Scheme.ToLowerInvariant())
        {
            case "queue":
                return FromShortForm(host, address, AddressKind.Queue);

            case "topic":
                return FromShortForm(host, address, AddressKind.Topic);

            case "exchange":
                return FromShortForm(host, address, AddressKind.Exchange);

            case Scheme:
                var segments = address.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
                var (prefix, name) = segments.Length switch
                {
                    1 => ("", segments[0]),
                    2 => (segments[0], segments[1]),
                    0 => throw new ArgumentException($"The address '{address}' names no endpoint; expected redis://host:port/[prefix/]name",
                        nameof(address)),
                    _ => throw new ArgumentException(
                        $"The address '{address}' has too many path segments; expected redis://host:port/[prefix/]name", nameof(address))
                };

                var hostAddress = new RedisStreamsHostAddress(address.Host, address.IsDefaultPort ? null : address.Port, Uri.UnescapeDataString(prefix));
                return Create(hostAddress, Uri.UnescapeDataString(name), AddressKind.Queue, address.Query, kindFromQuery: true);

            default:
                throw new ArgumentException(
                    $"The address '{address}' is not a Redis Streams address; use queue:name, topic:entity, exchange:name or redis://host:port/name",
                    nameof(address));
        }
    }

    static RedisStreamsEndpointAddress FromShortForm(RedisStreamsHostAddress host, Uri address, AddressKind kind)
    {
        // Depending on the scheme, System.Uri leaves the query of a short form address inside the path.
        var name = address.AbsolutePath;
        var query = address.Query;
        var queryStart = name.IndexOf('?', StringComparison.Ordinal);
        if (queryStart >= 0)
            (name, query) = (name[..queryStart], name[queryStart..]);

        // The scheme says what a short form names; a type= in its query is RabbitMQ's exchange type (fanout, direct, topic).
        return Create(host, Uri.UnescapeDataString(name), kind, query, kindFromQuery: false);
    }

    static RedisStreamsEndpointAddress Create(RedisStreamsHostAddress host, string name, AddressKind kind, string query, bool kindFromQuery)
    {
        var problem = StreamKeys.DescribeInvalidName(name);
        if (problem != null)
            throw new ArgumentException($"The endpoint name '{name}' {problem}", nameof(name));

        var temporary = false;

        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var separator = pair.IndexOf('=', StringComparison.Ordinal);
            var key = separator < 0 ? pair : pair[..separator];
            var value = separator < 0 ? "" : Uri.UnescapeDataString(pair[(separator + 1)..]);

            if (kindFromQuery && key.Equals("type", StringComparison.OrdinalIgnoreCase))
                kind = ParseKind(value) ?? kind;
            else if (key.Equals("temporary", StringComparison.OrdinalIgnoreCase) || key.Equals("autodelete", StringComparison.OrdinalIgnoreCase))
                temporary = value.Length == 0 || bool.TryParse(value, out var parsed) && parsed;
        }

        return new RedisStreamsEndpointAddress(host, name, kind, temporary);
    }

    /// <summary>The <c>type</c> of a <c>redis://</c> address: <c>queue</c> (the default), <c>topic</c> or <c>exchange</c>.</summary>
    static AddressKind? ParseKind(string value)
    {
        if (value.Equals("topic", StringComparison.OrdinalIgnoreCase))
            return AddressKind.Topic;
        if (value.Equals("exchange", StringComparison.OrdinalIgnoreCase))
            return AddressKind.Exchange;
        if (value.Equals("queue", StringComparison.OrdinalIgnoreCase))
            return AddressKind.Queue;

        return null;
    }

    public Uri ToUri()
    {
        var builder = new StringBuilder(Host.ToUri().ToString());
        builder.Append(Uri.EscapeDataString(Name).Replace("%3A", ":", StringComparison.Ordinal));

        var separator = '?';
        if (Kind != AddressKind.Queue)
        {
            builder.Append(separator).Append("type=").Append(Kind == AddressKind.Topic ? "topic" : "exchange");
            separator = '&';
        }

        if (Temporary)
            builder.Append(separator).Append("temporary=true");

        return new Uri(builder.ToString());
    }

    public override string ToString() => ToUri().ToString();

    public static implicit operator Uri(RedisStreamsEndpointAddress address) => address.ToUri();
}


/// <summary>What an endpoint address names.</summary>
enum AddressKind
{
    /// <summary>A receive endpoint's queue stream, <c>queue:name</c>.</summary>
    Queue,

    /// <summary>A message type's event stream, <c>events:entity</c>: sending there is publishing.</summary>
    Topic,

    /// <summary>
    /// <c>exchange:name</c>, as MassTransit's in-memory and RabbitMQ transports take it: the event stream of the message type
    /// named <c>name</c> when the message sent is of that type or implements it, and otherwise the queue of the endpoint
    /// <c>name</c>.
    /// </summary>
    Exchange
}
