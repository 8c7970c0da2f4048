namespace MassTransit.RedisStreams.Transport;

using System;
using System.Linq;
using System.Net;
using StackExchange.Redis;


/// <summary>
/// The bus's host address, <c>redis://host:port/</c> or <c>redis://host:port/prefix/</c>: the key prefix plays the part of a
/// RabbitMQ virtual host, so two prefixes on one Redis are two separate brokers with separate addresses.
/// </summary>
readonly struct RedisStreamsHostAddress
{
    public const int DefaultPort = 6379;

    public RedisStreamsHostAddress(string host, int? port, string prefix)
    {
        Host = string.IsNullOrWhiteSpace(host) ? "localhost" : host;
        Port = port is null or DefaultPort or <= 0 ? null : port;
        Prefix = prefix;
    }

    public string Host { get; }
    public int? Port { get; }
    public string Prefix { get; }

    public static RedisStreamsHostAddress FromConfiguration(ConfigurationOptions options, string prefix)
    {
        return options.EndPoints.FirstOrDefault() switch
        {
            DnsEndPoint dns => new RedisStreamsHostAddress(dns.Host, dns.Port, prefix),
            IPEndPoint ip => new RedisStreamsHostAddress(ip.Address.ToString(), ip.Port, prefix),
            _ => new RedisStreamsHostAddress("localhost", null, prefix)
        };
    }

    /// <summary>Reads a host address as written by <see cref="ToUri" />.</summary>
    public static RedisStreamsHostAddress Parse(Uri hostAddress)
    {
        if (!string.Equals(hostAddress.Scheme, RedisStreamsEndpointAddress.Scheme, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"The host address '{hostAddress}' is not a redis:// address", nameof(hostAddress));

        var prefix = Uri.UnescapeDataString(hostAddress.AbsolutePath.Trim('/'));

        return new RedisStreamsHostAddress(hostAddress.Host, hostAddress.IsDefaultPort ? null : hostAddress.Port, prefix);
    }

    public Uri ToUri()
    {
        var builder = new UriBuilder(RedisStreamsEndpointAddress.Scheme, Host, Port ?? -1)
        {
            Path = Prefix.Length == 0 ? "/" : "/" + Uri.EscapeDataString(Prefix).Replace("%3A", ":", StringComparison.Ordinal) + "/"
        };

        return builder.Uri;
    }

    public override string ToString() => ToUri().ToString();

    public static implicit operator Uri(RedisStreamsHostAddress address) => address.ToUri();
}
