namespace MassTransit;

using System;
using StackExchange.Redis;


/// <summary>
/// Configures a bus on the Redis Streams transport: the connection, then receive endpoints as on any MassTransit transport.
/// </summary>
public interface IRedisStreamsBusFactoryConfigurator :
    IBusFactoryConfigurator<IRedisStreamsReceiveEndpointConfigurator>
{
    /// <summary>
    /// Connects to Redis with a StackExchange.Redis configuration string such as <c>localhost:6379</c>. The bus creates the
    /// connection and closes it when it stops.
    /// </summary>
    /// <param name="configuration">A StackExchange.Redis configuration string.</param>
    /// <param name="configure">Optional transport settings.</param>
    void Host(string configuration, Action<IRedisStreamsHostConfigurator>? configure = null);

    /// <summary>
    /// Connects to Redis with StackExchange.Redis configuration options. The bus creates the connection from a copy of the
    /// options and closes it when it stops.
    /// </summary>
    /// <param name="options">The connection options.</param>
    /// <param name="configure">Optional transport settings.</param>
    void Host(ConfigurationOptions options, Action<IRedisStreamsHostConfigurator>? configure = null);

    /// <summary>
    /// Uses a connection the application already has. The caller keeps ownership: the bus never closes or disposes it, so it
    /// must stay open for as long as the bus runs.
    /// </summary>
    /// <param name="multiplexer">An open StackExchange.Redis connection, owned by the caller.</param>
    /// <param name="configure">Optional transport settings.</param>
    void Host(IConnectionMultiplexer multiplexer, Action<IRedisStreamsHostConfigurator>? configure = null);
}
