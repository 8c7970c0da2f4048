namespace MassTransit.RedisStreams.Benchmarks.Compare.Brokers;

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// The Redis every Redis run uses: the one given, REDIS_CONNECTION, or a private redis-server with AOF (appendfsync everysec).
/// Reset between runs empties it (FLUSHALL), or, on a shared server, deletes the keys under the run's prefix.
/// </summary>
public sealed class RedisBroker :
    IAsyncDisposable
{
    readonly PrivateRedis? _private;

    RedisBroker(string connection, string? keyPrefix, PrivateRedis? privateRedis, ConnectionMultiplexer admin, string version)
    {
        Connection = connection;
        KeyPrefix = keyPrefix;
        _private = privateRedis;
        Admin = admin;
        Version = version;
    }

    /// <summary>The StackExchange.Redis configuration string.</summary>
    public string Connection { get; }

    /// <summary>The prefix of every key on a shared server; null on a server of our own.</summary>
    public string? KeyPrefix { get; }

    /// <summary>A connection with admin commands allowed (INFO, FLUSHALL, MEMORY).</summary>
    public ConnectionMultiplexer Admin { get; }

    public string Version { get; }

    public static async Task<RedisBroker> Start(ComparisonOptions options)
    {
        var connection = options.RedisConnection ?? Environment.GetEnvironmentVariable("REDIS_CONNECTION");
        PrivateRedis? privateRedis = null;
        if (string.IsNullOrWhiteSpace(connection))
        {
            privateRedis = PrivateRedis.Start(appendOnly: true);
            connection = privateRedis.ConnectionString;
        }

        var admin = await ConnectionMultiplexer.ConnectAsync(connection + ",allowAdmin=true");
        var info = (await admin.GetServers()[0].InfoAsync("server")).SelectMany(x => x);
        var version = info.First(x => x.Key == "redis_version").Value;
        return new RedisBroker(connection, options.RedisKeyPrefix, privateRedis, admin, version);
    }

    /// <summary>A raw key: under the prefix on a shared server.</summary>
    public RedisKey Key(string name) => KeyPrefix == null ? name : KeyPrefix + ":" + name;

    /// <summary>Empties the server (or the prefix's keys) so that the next run starts from the same state.</summary>
    public async Task Reset()
    {
        var server = Admin.GetServers()[0];
        if (KeyPrefix == null)
        {
            await server.FlushAllDatabasesAsync();
            return;
        }

        var database = Admin.GetDatabase();
        var batch = new List<RedisKey>();
        await foreach (var key in server.KeysAsync(pattern: KeyPrefix + "*", pageSize: 500))
        {
            batch.Add(key);
            if (batch.Count == 500)
            {
                await database.KeyDeleteAsync(batch.ToArray());
                batch.Clear();
            }
        }

        if (batch.Count > 0)
            await database.KeyDeleteAsync(batch.ToArray());
    }

    /// <summary>Calls per command since the server started (INFO commandstats); subtract two readings for a window.</summary>
    public async Task<Dictionary<string, long>> CommandCalls()
    {
        var stats = (await Admin.GetServers()[0].InfoAsync("commandstats")).SelectMany(x => x);
        return stats.ToDictionary(
            x => x.Key.Replace("cmdstat_", "", StringComparison.Ordinal),
            x => long.Parse(x.Value.Split(',')[0].Split('=')[1], CultureInfo.InvariantCulture));
    }

    /// <summary>Calls and microseconds per command since the server started (INFO commandstats).</summary>
    public async Task<Dictionary<string, (long Calls, long Usec)>> CommandStats()
    {
        var stats = (await Admin.GetServers()[0].InfoAsync("commandstats")).SelectMany(x => x);
        return stats.ToDictionary(
            x => x.Key.Replace("cmdstat_", "", StringComparison.Ordinal),
            x =>
            {
                var parts = x.Value.Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
                return (long.Parse(parts["calls"], CultureInfo.InvariantCulture), long.Parse(parts["usec"], CultureInfo.InvariantCulture));
            });
    }

    /// <summary>The server's CPU time so far (INFO cpu: used_cpu_sys + used_cpu_user), in seconds.</summary>
    public async Task<double> ServerCpuSeconds()
    {
        var cpu = (await Admin.GetServers()[0].InfoAsync("cpu")).SelectMany(x => x).ToDictionary(x => x.Key, x => x.Value);
        return double.Parse(cpu["used_cpu_sys"], CultureInfo.InvariantCulture) + double.Parse(cpu["used_cpu_user"], CultureInfo.InvariantCulture);
    }

    /// <summary>The server's <c>used_memory</c> (INFO memory), in bytes: the whole server's, also on a shared one.</summary>
    public async Task<long> UsedMemory()
    {
        var memory = (await Admin.GetServers()[0].InfoAsync("memory")).SelectMany(x => x);
        return long.Parse(memory.First(x => x.Key == "used_memory").Value, CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        await Admin.DisposeAsync();
        _private?.Dispose();
    }
}
