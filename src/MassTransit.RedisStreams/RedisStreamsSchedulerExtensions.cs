namespace MassTransit;

using System;
using DependencyInjection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MassTransit.Scheduling;
using RedisStreams.Configuration;
using RedisStreams.Scheduling;
using RedisStreams.Transport;
using Transports;


/// <summary>
/// The Redis Streams transport's own message scheduler: scheduled messages are held in Redis and appended to their streams
/// when due, by whichever instance of the bus gets to them first, and can be cancelled until then.
/// </summary>
public static class RedisStreamsSchedulerExtensions
{
    /// <summary>
    /// Registers an <see cref="IMessageScheduler" /> in the container that schedules with the transport, with cancellation:
    /// <c>ScheduleSend</c>, <c>SchedulePublish</c>, <c>CancelScheduledSend</c>, <c>CancelScheduledPublish</c>. Use with
    /// <see cref="UseRedisStreamsMessageScheduler" /> so that consumers and sagas schedule the same way.
    /// </summary>
    /// <param name="configurator">The registration configurator from <c>AddMassTransit</c>.</param>
    public static void AddRedisStreamsMessageScheduler(this IBusRegistrationConfigurator configurator)
    {
        ArgumentNullException.ThrowIfNull(configurator);

        configurator.TryAddScoped<IMessageScheduler>(provider =>
        {
            var busInstance = provider.GetRequiredService<Bind<IBus, IBusInstance>>().Value;
            return new MessageScheduler(CreateProvider(busInstance, provider.GetRequiredService<ISendEndpointProvider>()), busInstance.Bus.Topology);
        });
    }

    /// <summary>
    /// Registers the transport's scheduler for an additional bus (MultiBus) as <c>Bind&lt;TBus, IMessageScheduler&gt;</c>; see
    /// <see cref="AddRedisStreamsMessageScheduler(IBusRegistrationConfigurator)" />.
    /// </summary>
    /// <param name="configurator">The registration configurator from <c>AddMassTransit&lt;TBus&gt;</c>.</param>
    /// <typeparam name="TBus">The bus interface.</typeparam>
    public static void AddRedisStreamsMessageScheduler<TBus>(this IBusRegistrationConfigurator<TBus> configurator)
        where TBus : class, IBus
    {
        ArgumentNullException.ThrowIfNull(configurator);

        configurator.TryAddScoped(provider =>
        {
            var busInstance = provider.GetRequiredService<Bind<TBus, IBusInstance>>().Value;
            return Bind<TBus>.Create<IMessageScheduler>(new MessageScheduler(CreateProvider(busInstance, busInstance.Bus), busInstance.Bus.Topology));
        });
    }

    /// <summary>
    /// Makes consumers, sagas (<c>Schedule</c>/<c>Unschedule</c>), routing slips and job consumers schedule with the
    /// transport: <c>context.ScheduleSend</c> and friends hold the message in Redis, cancellably.
    /// </summary>
    /// <param name="configurator">The bus configurator given to <c>UsingRedisStreams</c>.</param>
    /// <exception cref="ConfigurationException">The bus is not on Redis Streams.</exception>
    public static void UseRedisStreamsMessageScheduler(this IBusFactoryConfigurator configurator)
    {
        ArgumentNullException.ThrowIfNull(configurator);

        if (configurator is not RedisStreamsBusFactoryConfigurator redis)
            throw new ConfigurationException("UseRedisStreamsMessageScheduler needs a bus on the Redis Streams transport (UsingRedisStreams).");

        configurator.AddPrePipeSpecification(new RedisStreamsMessageSchedulerSpecification(redis.HostConfiguration));
    }

    static RedisStreamsScheduleMessageProvider CreateProvider(IBusInstance busInstance, ISendEndpointProvider sendEndpointProvider)
    {
        var hostConfiguration = busInstance.HostConfiguration as RedisStreamsHostConfiguration
            ?? throw new ConfigurationException("The Redis Streams message scheduler needs a bus on the Redis Streams transport (UsingRedisStreams).");

        return new RedisStreamsScheduleMessageProvider(() => hostConfiguration.BusContext, sendEndpointProvider);
    }
}
