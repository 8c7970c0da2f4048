namespace MassTransit.RedisStreams.Redis;

using System;
using System.Threading;
using System.Threading.Tasks;
using Internals;
using StackExchange.Redis;


/// <summary>
/// The bus's one multiplexer. It is created on first use and, when the bus created it, disposed when the bus stops;
/// a multiplexer handed in by the application is used as it is and never disposed.
/// </summary>
sealed class RedisConnection :
    IAsyncDisposable
{
    readonly ConfigurationOptions? _options;
    readonly IConnectionMultiplexer? _external;
    readonly object _lock = new();
    Task<IConnectionMultiplexer>? _connecting;

    /// <param name="options">The connection options; copied, never changed.</param>
    /// <param name="defaultReconnectPolicy">
    /// True when the options come from a configuration string, which cannot name a reconnect policy: the transport then
    /// reconnects sooner than StackExchange.Redis's default, since every endpoint waits on it.
    /// </param>
    public RedisConnection(ConfigurationOptions options, bool defaultReconnectPolicy)
    {
        _options = options.Clone();

        // The transport must start while Redis is down and come back by itself; it reports the outage through health instead.
        _options.AbortOnConnectFail = false;

        // A command issued while disconnected fails at once instead of waiting in a backlog: receive loops report the outage
        // and back off, and sends retry under the transport's own bounded policy.
        _options.BacklogPolicy = BacklogPolicy.FailFast;

        if (defaultReconnectPolicy)
            _options.ReconnectRetryPolicy = new ExponentialRetry(250, 5000);
    }

    /// <param name="multiplexer">The caller's connection, used as it is and never disposed.</param>
    /// <param name="observe">
    /// Whether to raise <see cref="ConnectionChanged" /> for it; a short-lived user of the connection (an admin) leaves it
    /// unobserved so as not to leave handlers on it.
    /// </param>
    public RedisConnection(IConnectionMultiplexer multiplexer, bool observe = true)
    {
        _external = multiplexer;
        if (observe)
            Observe(multiplexer);
    }

    /// <summary>Raised when the connection to a server fails or comes back, so idle receivers can react at once.</summary>
    public event Action<bool>? ConnectionChanged;

    public string Description => _external?.Configuration ?? _options!.ToString(includePassword: false);

    /// <summary>The multiplexer, for one call to Redis (counted as one round trip).</summary>
    public Task<IConnectionMultiplexer> GetMultiplexer()
    {
        Diagnostics.TransportMetrics.CountCall();
        return Multiplexer();
    }

    Task<IConnectionMultiplexer> Multiplexer()
    {
        if (_external != null)
            return Task.FromResult(_external);

        lock (_lock)
        {
            if (_connecting == null || _connecting.IsFaulted || _connecting.IsCanceled)
                _connecting = Connect();

            return _connecting;
        }
    }

    /// <summary>The multiplexer once it is connected, without waiting and without counting a call; null until then.</summary>
    public IConnectionMultiplexer? GetMultiplexerIfConnected()
    {
        if (_external != null)
            return _external;

        return Volatile.Read(ref _connecting) is { IsCompletedSuccessfully: true } connecting ? connecting.Result : null;
    }

    /// <summary>
    /// Options for a connection of the bus's own beside this one (a blocking reader's): the same servers, credentials and TLS.
    /// For a multiplexer handed in by the application they are read back from its configuration string, which keeps no
    /// certificate callbacks; null when even that cannot be read.
    /// </summary>
    public ConfigurationOptions? DedicatedOptions()
    {
        if (_options != null)
            return _options.Clone();

        try
        {
            return _external?.Configuration is { Length: > 0 } configuration ? ConfigurationOptions.Parse(configuration) : null;
        }
        catch (Exception exception) when (exception is ArgumentException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Begins connecting without waiting; a failure is met again, and reported, by the next use.</summary>
    public void BeginConnecting() => Multiplexer().IgnoreUnobservedExceptions();

    /// <summary>The database, for one call to Redis (counted as one round trip).</summary>
    public async Task<IDatabase> GetDatabase()
    {
        var multiplexer = await GetMultiplexer().ConfigureAwait(false);
        return multiplexer.GetDatabase();
    }

    int _cluster;

    /// <summary>
    /// Whether the connection is to a Redis Cluster, where keys that one command touches must share a hash slot. Known once a
    /// server has answered; until then false (no command reaches a server before that anyway).
    /// </summary>
    public bool IsCluster(IConnectionMultiplexer multiplexer)
    {
        var known = Volatile.Read(ref _cluster);
        if (known != 0)
            return known > 0;

        foreach (var server in multiplexer.GetServers())
        {
            if (!server.IsConnected)
                continue;

            var cluster = server.ServerType == ServerType.Cluster;
            Volatile.Write(ref _cluster, cluster ? 1 : -1);
            return cluster;
        }

        return false;
    }

    async Task<IConnectionMultiplexer> Connect()
    {
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(_options!).ConfigureAwait(false);

        Observe(multiplexer);

        return multiplexer;
    }

    void Observe(IConnectionMultiplexer multiplexer)
    {
        multiplexer.ConnectionFailed += (_, _) =>
        {
            Diagnostics.TransportMetrics.CountConnectionChange(restored: false);
            ConnectionChanged?.Invoke(false);
        };
        multiplexer.ConnectionRestored += (_, _) =>
        {
            Diagnostics.TransportMetrics.CountConnectionChange(restored: true);
            ConnectionChanged?.Invoke(true);
        };
    }

    /// <summary>
    /// Closes a multiplexer the bus created; the next use after this creates a new one, so a stopped bus can start again.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        Task<IConnectionMultiplexer>? connecting;
        lock (_lock)
        {
            connecting = _connecting;
            _connecting = null;
        }

        if (_external != null || connecting == null)
            return;

        try
        {
            var multiplexer = await connecting.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            await multiplexer.CloseAsync().ConfigureAwait(false);
            await multiplexer.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (TransientFailures.IsRedisFailure(exception))
        {
            LogContext.Debug?.Log(exception, "Closing the Redis connection failed: {Connection}", Description);
        }
    }
}
