namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Collections.Concurrent;
using System.Threading.Tasks;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;


/// <summary>
/// One application's view of a Redis: a connection string and a key prefix of its own. Harnesses started from one context
/// are instances of the same application; <see cref="Database" /> looks at what they left in Redis, as redis-cli would.
/// </summary>
public sealed class RedisTestContext
{
    static readonly ConcurrentDictionary<string, Lazy<Task<ConnectionMultiplexer>>> Multiplexers = new();

    RedisTestContext(string connectionString, string keyPrefix)
    {
        ConnectionString = connectionString;
        KeyPrefix = keyPrefix;
    }

    public string ConnectionString { get; }
    public string KeyPrefix { get; }

    public static async Task<RedisTestContext> Create(string? connectionString = null)
    {
        return new RedisTestContext(connectionString ?? await TestRedis.GetConnectionStringAsync(), TestRedis.NewKeyPrefix());
    }

    /// <summary>A context on <paramref name="connectionString" /> under a key prefix the caller chose.</summary>
    public static RedisTestContext Create(string connectionString, string keyPrefix) => new(connectionString, keyPrefix);

    /// <summary>The full key of <paramref name="key" />, e.g. <c>events:AuctionEnded</c>, under this context's prefix.</summary>
    public RedisKey Key(string key) => KeyPrefix + ":" + key;

    /// <summary>
    /// The key <paramref name="suffix" /> beside stream <paramref name="stream" /> (a name under this context's prefix, e.g.
    /// <c>queue:ledger</c>), as operators see it: <c>p:{p:queue:ledger}:delayed</c>.
    /// </summary>
    public RedisKey Beside(string stream, string suffix) => KeyPrefix + ":{" + Key(stream).ToString() + "}:" + suffix;

    public async Task<IDatabase> Database()
    {
        var multiplexer = await Multiplexers.GetOrAdd(ConnectionString,
            connection => new Lazy<Task<ConnectionMultiplexer>>(() => ConnectionMultiplexer.ConnectAsync(connection + ",abortConnect=false"))).Value;

        return multiplexer.GetDatabase();
    }

    public async Task<ServiceProvider> StartHarness(Action<IBusRegistrationConfigurator> registrations,
        Action<IBusRegistrationContext, IRedisStreamsBusFactoryConfigurator>? configure = null, Action<IRedisStreamsHostConfigurator>? host = null,
        Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        services?.Invoke(collection);

        collection.AddMassTransitTestHarness(x =>
        {
            registrations(x);
            x.UsingRedisStreams((context, cfg) =>
            {
                cfg.Host(ConnectionString, h =>
                {
                    h.KeyPrefix = KeyPrefix;
                    host?.Invoke(h);
                });

                configure?.Invoke(context, cfg);
                cfg.ConfigureEndpoints(context);
            });
        });

        var provider = collection.BuildServiceProvider(true);

        var harness = provider.GetRequiredService<ITestHarness>();
        harness.TestTimeout = TimeSpan.FromSeconds(15);

        // The harness counts inactivity from the bus's creation, and a first start in a process whose other tests load both
        // cores can outlast MassTransit's 1.2 s default; a question asked after such a start would find the bus "inactive".
        harness.TestInactivityTimeout = TimeSpan.FromSeconds(3);
        await harness.Start();

        return provider;
    }
}
