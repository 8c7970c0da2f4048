namespace MassTransit;

using System;
using DependencyInjection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RedisStreams.Diagnostics;
using RedisStreams.Configuration;
using RedisStreams.History;
using RedisStreams.Operations;
using RedisStreams.Transport;
using Transports;


/// <summary>
/// Selects the Redis Streams transport for a bus.
/// </summary>
public static class RedisStreamsConfigurationExtensions
{
    /// <summary>
    /// Runs the bus on Redis Streams. The connection and transport settings come from
    /// <see cref="RedisStreamsTransportOptions" /> (bind them with
    /// <c>services.AddOptions&lt;RedisStreamsTransportOptions&gt;().BindConfiguration("RedisStreams")</c>); anything the callback
    /// sets overrides them. Without options and callback the bus connects to <c>localhost:6379</c>.
    /// </summary>
    /// <param name="configurator">The registration configurator from <c>AddMassTransit</c>.</param>
    /// <param name="configure">Configures the bus, e.g. <c>cfg.Host("localhost:6379")</c> and <c>cfg.ConfigureEndpoints(context)</c>.</param>
    public static void UsingRedisStreams(this IBusRegistrationConfigurator configurator,
        Action<IBusRegistrationContext, IRedisStreamsBusFactoryConfigurator>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configurator);

        configurator.SetBusFactory(new RedisStreamsRegistrationBusFactory(configure ?? ((context, cfg) => cfg.ConfigureEndpoints(context))));
        configurator.TryAddSingleton<OpenedConnections>();

        configurator.TryAddSingleton<IRedisStreamsAdmin>(provider =>
        {
            var bus = GetBusContext<IBus>(provider);
            return new RedisStreamsAdmin(bus.Redis, bus.Trimmer);
        });
        configurator.TryAddSingleton<IRedisStreamsEventHistory>(provider => GetBusContext<IBus>(provider).History);

        AddHealthCheck<IBus>(configurator, RedisStreamsInstrumentation.HealthCheckName);
    }

    /// <summary>
    /// Runs an additional bus (MultiBus) on Redis Streams; see
    /// <see cref="UsingRedisStreams(IBusRegistrationConfigurator, Action{IBusRegistrationContext, IRedisStreamsBusFactoryConfigurator})" />.
    /// Options are read under the bus's name: <c>services.AddOptions&lt;RedisStreamsTransportOptions&gt;(nameof(IMyBus))</c>.
    /// </summary>
    /// <param name="configurator">The registration configurator from <c>AddMassTransit&lt;TBus&gt;</c>.</param>
    /// <param name="configure">Configures the bus.</param>
    /// <typeparam name="TBus">The bus interface.</typeparam>
    public static void UsingRedisStreams<TBus>(this IBusRegistrationConfigurator<TBus> configurator,
        Action<IBusRegistrationContext, IRedisStreamsBusFactoryConfigurator>? configure = null)
        where TBus : class, IBus
    {
        ArgumentNullException.ThrowIfNull(configurator);

        configurator.SetBusFactory(new RedisStreamsRegistrationBusFactory(configure ?? ((context, cfg) => cfg.ConfigureEndpoints(context))));
        configurator.TryAddSingleton<OpenedConnections>();

        configurator.TryAddSingleton<IRedisStreamsAdmin<TBus>>(provider =>
        {
            var bus = GetBusContext<TBus>(provider);
            return new BusAdmin<TBus>(new RedisStreamsAdmin(bus.Redis, bus.Trimmer));
        });
        configurator.TryAddSingleton<IRedisStreamsEventHistory<TBus>>(provider => new EventHistory<TBus>(GetBusContext<TBus>(provider).History));

        AddHealthCheck<TBus>(configurator, RedisStreamsInstrumentation.HealthCheckName + "-" + typeof(TBus).Name);
    }

    /// <summary>
    /// Adds the health of the bus's endpoints as consumers (lag, oldest pending entry) beside MassTransit's own bus health check,
    /// with its tags <c>ready</c> and <c>masstransit</c>, and <c>redis-streams</c>. It reports Degraded, never Unhealthy.
    /// </summary>
    static void AddHealthCheck<TBus>(IServiceCollection services, string name)
        where TBus : class, IBus
    {
        services.AddHealthChecks().Add(new HealthCheckRegistration(name,
            provider => new EndpointHealthCheck(() => GetBusContext<TBus>(provider).Endpoints), HealthStatus.Degraded, ["ready", "masstransit", "redis-streams"]));
    }

    static RedisStreamsBusContext GetBusContext<TBus>(IServiceProvider provider)
        where TBus : class, IBus
    {
        // MassTransit registers the default bus's instance as Bind<IBus, IBusInstance>, an additional bus's as IBusInstance<TBus>.
        IBusInstance instance = typeof(TBus) == typeof(IBus)
            ? provider.GetRequiredService<Bind<TBus, IBusInstance>>().Value
            : provider.GetRequiredService<IBusInstance<TBus>>();
        var hostConfiguration = instance.HostConfiguration as RedisStreamsHostConfiguration;

        return hostConfiguration?.BusContext ?? throw new ConfigurationException($"The bus {TypeCache<TBus>.ShortName} is not a Redis Streams bus.");
    }

    /// <summary>
    /// Creates a bus on Redis Streams without dependency injection: <c>Bus.Factory.CreateUsingRedisStreams(cfg => ...)</c>.
    /// </summary>
    /// <param name="selector">The bus factory selector, <c>Bus.Factory</c>.</param>
    /// <param name="configure">Configures the bus, e.g. <c>cfg.Host("localhost:6379")</c> and its receive endpoints.</param>
    /// <returns>The bus, not yet started.</returns>
    public static IBusControl CreateUsingRedisStreams(this IBusFactorySelector selector, Action<IRedisStreamsBusFactoryConfigurator> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);

        var busConfiguration = new RedisStreamsBusConfiguration(new RedisStreamsTopologyConfiguration());
        var configurator = new RedisStreamsBusFactoryConfigurator(busConfiguration);

        configure(configurator);

        return configurator.Build(busConfiguration);
    }
}
