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

    /// <summary>
    /// Sets how long the bus's streams keep their entries: the log (event streams) keeps everything by default, queues drop
    /// what every group has acknowledged, fault streams keep 7 days, error and skipped streams keep everything. An entry a
    /// consumer group still needs is never removed.
    /// </summary>
    /// <param name="configure">Sets the policies, e.g. <c>r =&gt; r.MessageType&lt;AuctionEnded&gt;(RedisStreamsRetentionPolicy.Age(TimeSpan.FromDays(90)))</c>.</param>
    void Retention(Action<IRedisStreamsRetentionConfigurator> configure);

    /// <summary>
    /// Reads events stored under an older contract as the current one: the history and replays of <typeparamref name="TNew" />
    /// include the events of <typeparamref name="TOld" />, turned into <typeparamref name="TNew" /> by <paramref name="upgrade" />,
    /// so that a renamed or reshaped contract does not strand its history. An entry is read as <typeparamref name="TOld" />
    /// when it says it is one (give a renamed old contract its old name with <c>[MessageUrn]</c>), or when it does not read as
    /// <typeparamref name="TNew" /> but does as <typeparamref name="TOld" />.
    /// </summary>
    /// <param name="upgrade">Turns an old event into a new one.</param>
    /// <typeparam name="TOld">The older contract.</typeparam>
    /// <typeparam name="TNew">The current contract.</typeparam>
    void UpgradeEvent<TOld, TNew>(Func<TOld, TNew> upgrade)
        where TOld : class
        where TNew : class;

    /// <summary>
    /// Spreads the published events of <typeparamref name="T" /> over <paramref name="partitions" /> streams, which on a Redis
    /// Cluster fall on different primaries. The send context's CorrelationId picks the partition (set from
    /// <c>CorrelatedBy&lt;Guid&gt;</c> or a <c>CorrelationId</c> property), or its MessageId when it has none, so the events of one
    /// key keep their order. Consumers need no configuration: every endpoint reads all the partitions. Overrides
    /// <see cref="RedisStreamsPartitionsAttribute" />. See docs/history-and-replay.md, Partitions.
    /// </summary>
    /// <param name="partitions">From 1 (not partitioned) to 1024; a multiple of the number of primaries of the cluster.</param>
    /// <typeparam name="T">The published message type.</typeparam>
    /// <exception cref="ArgumentException">The count is out of range.</exception>
    void Partition<T>(int partitions)
        where T : class;

    /// <summary>
    /// Spreads the published events of <typeparamref name="T" /> over <paramref name="partitions" /> streams by a key of their
    /// own: the partition is the 32-bit FNV-1a hash of the key's UTF-8 bytes modulo the count. A message whose key is null or
    /// empty goes to the partition of its MessageId. See <see cref="Partition{T}(int)" />.
    /// </summary>
    /// <param name="partitions">From 1 (not partitioned) to 1024; a multiple of the number of primaries of the cluster.</param>
    /// <param name="key">The key of a message, e.g. <c>x =&gt; x.Message.AuctionId.ToString()</c>; events of one key keep their order.</param>
    /// <typeparam name="T">The published message type.</typeparam>
    /// <exception cref="ArgumentException">The count is out of range.</exception>
    void Partition<T>(int partitions, Func<SendContext<T>, string?> key)
        where T : class;
}
