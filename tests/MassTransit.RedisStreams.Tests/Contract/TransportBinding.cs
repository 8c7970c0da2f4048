namespace MassTransit.RedisStreams.Tests.Contract;

using System;
using System.Threading.Tasks;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;


/// <summary>
/// Binds the transport contract suite to one transport. The suite is written once; each transport runs it through a binding.
/// </summary>
public interface ITransportBinding
{
    /// <summary>True for the Redis Streams transport; the in-memory binding proves the contract tests themselves are right.</summary>
    bool IsRedis { get; }

    /// <summary>
    /// Selects the transport for a bus, runs <paramref name="configure" />, then <c>ConfigureEndpoints</c>. Every bus created by one binding instance shares the same broker (the same Redis and
    /// key prefix), so two service providers built from one binding are two instances of one application.
    /// </summary>
    void UseTransport(IBusRegistrationConfigurator configurator, Action<IBusRegistrationContext, IBusFactoryConfigurator> configure);
}


/// <summary>Redis Streams on a Redis named by a configuration string, under a key prefix of its own.</summary>
public abstract class RedisBindingBase :
    ITransportBinding
{
    protected RedisBindingBase(string connectionString)
    {
        KeyPrefix = TestRedis.NewKeyPrefix();
        ConnectionString = connectionString;
    }

    public string KeyPrefix { get; }
    public string ConnectionString { get; }

    public bool IsRedis => true;

    public void UseTransport(IBusRegistrationConfigurator configurator, Action<IBusRegistrationContext, IBusFactoryConfigurator> configure)
    {
        configurator.UsingRedisStreams((context, cfg) =>
        {
            cfg.Host(ConnectionString, h => h.KeyPrefix = KeyPrefix);
            configure(context, cfg);
            cfg.ConfigureEndpoints(context);
        });
    }
}


/// <summary>Redis Streams on the shared test Redis, isolated by a key prefix of its own.</summary>
public sealed class RedisBinding :
    RedisBindingBase
{
    public RedisBinding()
        : base(TestRedis.GetConnectionStringAsync().GetAwaiter().GetResult())
    {
    }
}


/// <summary>MassTransit's in-memory transport: the reference the contract is checked against.</summary>
public sealed class InMemoryBinding :
    ITransportBinding
{
    public bool IsRedis => false;

    public void UseTransport(IBusRegistrationConfigurator configurator, Action<IBusRegistrationContext, IBusFactoryConfigurator> configure)
    {
        configurator.UsingInMemory((context, cfg) =>
        {
            configure(context, cfg);
            cfg.ConfigureEndpoints(context);
        });
    }
}


public static class TransportBindingExtensions
{
    /// <summary>
    /// Builds a service provider with the MassTransit test harness on the binding's transport and starts the harness.
    /// </summary>
    public static async Task<ServiceProvider> StartHarness(this ITransportBinding binding, Action<IBusRegistrationConfigurator> registrations,
        Action<IBusRegistrationContext, IBusFactoryConfigurator>? configure = null, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        services?.Invoke(collection);

        collection.AddMassTransitTestHarness(x =>
        {
            registrations(x);
            binding.UseTransport(x, (context, cfg) => configure?.Invoke(context, cfg));
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


/// <summary>
/// Redis Streams on a private Redis Cluster of three primaries that the cluster contract classes share (see
/// <see cref="ClusterContractFixture" />), each binding under a key prefix of its own, so that its streams fall in slots of
/// different primaries.
/// </summary>
public sealed class ClusterBinding :
    RedisBindingBase
{
    public ClusterBinding()
        : base((ClusterContractFixture.Cluster ?? throw new InvalidOperationException(
            $"A cluster binding runs in the collection '{ClusterContractFixture.Collection}', whose fixture starts the cluster")).ConnectionString)
    {
    }
}


/// <summary>
/// Starts the cluster of the cluster contract classes before the first of them runs, and stops it after the last: they
/// form one test collection, so that the cluster is never left running.
/// </summary>
public sealed class ClusterContractFixture :
    Xunit.IAsyncLifetime
{
    public const string Collection = "Cluster contracts";

    public static RedisClusterProcess? Cluster { get; private set; }

    public async Task InitializeAsync()
    {
        Cluster = await RedisClusterProcess.Start();
    }

    public Task DisposeAsync()
    {
        Cluster?.Dispose();
        Cluster = null;
        return Task.CompletedTask;
    }
}


[Xunit.CollectionDefinition(ClusterContractFixture.Collection)]
public sealed class ClusterContractCollection :
    Xunit.ICollectionFixture<ClusterContractFixture>;
