namespace MassTransit.RedisStreams.Transport;

using System;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Metadata;


/// <summary>
/// What is the same for every entry a process writes — MassTransit's host information (machine, process, assembly and
/// versions) and the address of its bus endpoint — stored once in Redis (the <c>hosts</c> hash, by <see cref="Id" />)
/// instead of in every entry. An entry names it in its <c>MT-Host</c> field.
/// </summary>
sealed class HostRecord
{
    static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull
    };

    HostRecord(string id, string json, Uri? address, HostInfo host)
    {
        Id = id;
        IdBytes = System.Text.Encoding.UTF8.GetBytes(id);
        Json = json;
        Address = address;
        Host = host;
    }

    /// <summary>16 hex digits of the SHA-256 of <see cref="Json" />: the same process writes the same record.</summary>
    public string Id { get; }

    /// <summary><see cref="Id" /> as the bytes an entry's <c>MT-Host</c> field carries, encoded once.</summary>
    public StackExchange.Redis.RedisValue IdBytes { get; }

    /// <summary>The stored form: <c>{"address":"...","host":{...}}</c>.</summary>
    public string Json { get; }

    /// <summary>The bus endpoint's address: the source address of what the process sends or publishes outside a consumer.</summary>
    public Uri? Address { get; }

    public HostInfo Host { get; }

    /// <summary>The record of this process, whose bus endpoint has the address <paramref name="busAddress" />.</summary>
    public static HostRecord ForThisProcess(Uri? busAddress)
    {
        var stored = new Stored { Address = busAddress?.ToString(), Host = ToBusHostInfo(HostMetadataCache.Host) };
        var json = JsonSerializer.Serialize(stored, JsonOptions);

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(json), hash);

        return new HostRecord(Convert.ToHexString(hash[..8]).ToLowerInvariant(), json, busAddress, stored.Host);
    }

    /// <summary>Reads a stored record; null when <paramref name="json" /> is not one.</summary>
    public static HostRecord? Parse(string id, string? json)
    {
        if (string.IsNullOrEmpty(json))
            return null;

        try
        {
            var stored = JsonSerializer.Deserialize<Stored>(json, JsonOptions);
            if (stored?.Host == null)
                return null;

            Uri.TryCreate(stored.Address, UriKind.Absolute, out var address);

            return new HostRecord(id, json, address, stored.Host);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    static BusHostInfo ToBusHostInfo(HostInfo host)
    {
        return new BusHostInfo
        {
            MachineName = host.MachineName,
            ProcessName = host.ProcessName,
            ProcessId = host.ProcessId,
            Assembly = host.Assembly,
            AssemblyVersion = host.AssemblyVersion,
            FrameworkVersion = host.FrameworkVersion,
            MassTransitVersion = host.MassTransitVersion,
            OperatingSystemVersion = host.OperatingSystemVersion
        };
    }


    sealed class Stored
    {
        public string? Address { get; set; }
        public BusHostInfo? Host { get; set; }
    }
}
