namespace MassTransit.RedisStreams.Transport;

using System;
using System.Text;
using Redis;
using StackExchange.Redis;


/// <summary>
/// An endpoint address: <c>redis://host:port/[prefix/]name[?type=topic][&amp;temporary=true]</c>, also written in the short forms
/// <c>queue:name</c> and <c>topic:entity</c>, which take host and prefix from the bus.
/// </summary>
readonly struct RedisStreamsEndpointAddress
{
    public const string Scheme = "redis";
    const string TopicType = "topic";

    public RedisStreamsEndpointAddress(RedisStreamsHostAddress host, string name, bool isTopic = false, bool temporary = false)
    {
        Host = host;
        Name = name;
        IsTopic = isTopic;
        Temporary = temporary;
    }

    public RedisStreamsHostAddress Host { get; }

    /// <summary>The queue name, or the entity name of a message type when <see cref="IsTopic" />.</summary>
    public string Name { get; }

    public bool IsTopic { get; }

    /// <summary>A temporary endpoint's stream is deleted when it stops and expires when its owner dies.</summary>
    public bool Temporary { get; }

    public RedisKey GetStreamKey()
    {
        var keys = new StreamKeys(Host.Prefix);
        return IsTopic ? keys.Events(Name) : keys.Queue(Name);
    }

    public static RedisStreamsEndpointAddress Parse(RedisStreamsHostAddress host, Uri address)
    {
        ArgumentNullException.ThrowIfNull(address);

        switch (address.Scheme.ToLowerInvariant())
        {
            case "queue":
                return FromShortForm(host, address, isTopic: false);

            case "topic":
                return FromShortForm(host, address, isTopic: true);

            case Scheme:
                var segments = address.AbsolutePath.Trim('/').Split('/');
                var (prefix, name) = segments.Length switch
                {
                    1 => ("", segments[0]),
                    2 => (segments[0], segments[1]),
                    _ => throw new ArgumentException(
                        $"The address '{address}' has too many path segments; expected redis://host:port/[prefix/]name", nameof(address))
                };

                var hostAddress = new RedisStreamsHostAddress(address.Host, address.IsDefaultPort ? null : address.Port, Uri.UnescapeDataString(prefix));
                return Create(hostAddress, Uri.UnescapeDataString(name), address);

            default:
                throw new ArgumentException(
                    $"The address '{address}' is not a Redis Streams address; use queue:name, topic:entity or redis://host:port/name", nameof(address));
        }
    }

    static RedisStreamsEndpointAddress FromShortForm(RedisStreamsHostAddress host, Uri address, bool isTopic)
    {
        // Depending on the scheme, System.Uri leaves the query of a short form address inside the path.
        var name = address.AbsolutePath;
        var query = address.Query;
        var queryStart = name.IndexOf('?', StringComparison.Ordinal);
        if (queryStart >= 0)
            (name, query) = (name[..queryStart], name[queryStart..]);

        var parsed = Create(host, Uri.UnescapeDataString(name), query);

        return isTopic ? new RedisStreamsEndpointAddress(parsed.Host, parsed.Name, isTopic: true, parsed.Temporary) : parsed;
    }

    static RedisStreamsEndpointAddress Create(RedisStreamsHostAddress host, string name, Uri address) => Create(host, name, address.Query);

    static RedisStreamsEndpointAddress Create(RedisStreamsHostAddress host, string name, string query)
    {
        var problem = StreamKeys.DescribeInvalidName(name);
        if (problem != null)
            throw new ArgumentException($"The endpoint name '{name}' {problem}", nameof(name));

        var isTopic = false;
        var temporary = false;

        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var separator = pair.IndexOf('=', StringComparison.Ordinal);
            var key = separator < 0 ? pair : pair[..separator];
            var value = separator < 0 ? "" : Uri.UnescapeDataString(pair[(separator + 1)..]);

            if (key.Equals("type", StringComparison.OrdinalIgnoreCase))
                isTopic = value.Equals(TopicType, StringComparison.OrdinalIgnoreCase);
            else if (key.Equals("temporary", StringComparison.OrdinalIgnoreCase) || key.Equals("autodelete", StringComparison.OrdinalIgnoreCase))
                temporary = value.Length == 0 || bool.TryParse(value, out var parsed) && parsed;
        }

        return new RedisStreamsEndpointAddress(host, name, isTopic, temporary);
    }

    public Uri ToUri()
    {
        var builder = new StringBuilder(Host.ToUri().ToString());
        builder.Append(Uri.EscapeDataString(Name).Replace("%3A", ":", StringComparison.Ordinal));

        var separator = '?';
        if (IsTopic)
        {
            builder.Append(separator).Append("type=").Append(TopicType);
            separator = '&';
        }

        if (Temporary)
            builder.Append(separator).Append("temporary=true");

        return new Uri(builder.ToString());
    }

    public override string ToString() => ToUri().ToString();

    public static implicit operator Uri(RedisStreamsEndpointAddress address) => address.ToUri();
}
