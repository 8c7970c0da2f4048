namespace MassTransit.RedisStreams.Dashboard;

using System;
using System.Threading.Tasks;
using Configuration;
using DependencyInjection;
using MassTransit.Transports;
using History;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Operations;
using Redis;
using StackExchange.Redis;


/// <summary>What every page reads and changes through: the core library's history and operations on one connection and prefix.</summary>
sealed class DashboardData
{
    public DashboardData(RedisGateway redis, RedisStreamsEventHistory history)
    {
        Redis = redis;
        History = history;
        Operations = new EntryOperations(redis);
        Groups = new ConsumerGroups(redis);
        Inspector = new StreamInspector(redis);
    }

    public RedisGateway Redis { get; }
    public RedisStreamsEventHistory History { get; }
    public EntryOperations Operations { get; }
    public ConsumerGroups Groups { get; }
    public StreamInspector Inspector { get; }
    public StreamKeys Keys => Redis.Keys;
}


/// <summary>
/// Where the dashboard's Redis comes from: the application's Redis Streams bus (its connection, key prefix and name formatters),
/// a connection of the caller's, or a connection string the dashboard opens itself at its first request.
/// </summary>
sealed class DashboardSource
{
    readonly Func<Task<DashboardData>> _open;
    readonly object _lock = new();
    Task<DashboardData>? _opening;

    DashboardSource(Func<Task<DashboardData>> open)
    {
        _open = open;
    }

    /// <summary>The data to read, opened at the first request; a failed open is tried again at the next.</summary>
    public Task<DashboardData> Get()
    {
        lock (_lock)
        {
            if (_opening is null || _opening.IsFaulted || _opening.IsCanceled)
                _opening = _open();

            return _opening;
        }
    }

    public static DashboardSource Create(IServiceProvider services, RedisStreamsDashboardOptions options)
    {
        if (options.Connection is { } connection)
        {
            var data = Open(connection, options.KeyPrefix);
            return new DashboardSource(() => Task.FromResult(data));
        }

        if (options.ConnectionString is { } connectionString)
        {
            var configuration = RedisConfiguration.Parse(connectionString);
            var prefix = options.KeyPrefix;
            StreamKeys.NormalizePrefix(prefix);

            return new DashboardSource(async () =>
            {
                var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
                services.GetService<IHostApplicationLifetime>()?.ApplicationStopped.Register(multiplexer.Dispose);
                return Open(multiplexer, prefix);
            });
        }

        if (services.GetService<IServiceProviderIsService>() is { } isService && !isService.IsService(typeof(Bind<IBus, IBusInstance>)))
        {
            throw new InvalidOperationException("The Redis Streams dashboard found no bus: register one with AddMassTransit(x => x.UsingRedisStreams(...)), "
                + "or set RedisStreamsDashboardOptions.ConnectionString (or Connection) and KeyPrefix.");
        }

        return new DashboardSource(() =>
        {
            var instance = services.GetRequiredService<Bind<IBus, IBusInstance>>().Value;
            var bus = (instance.HostConfiguration as RedisStreamsHostConfiguration)?.BusContext
                ?? throw new InvalidOperationException("The Redis Streams dashboard shows a Redis Streams bus; the application's bus runs on another transport.");

            return Task.FromResult(new DashboardData(bus.Redis, bus.History));
        });
    }

    static DashboardData Open(IConnectionMultiplexer multiplexer, string? keyPrefix) =>
        new(new RedisGateway(new RedisConnection(multiplexer, observe: false), new StreamKeys(keyPrefix)),
            new RedisStreamsEventHistory(multiplexer, keyPrefix));
}
