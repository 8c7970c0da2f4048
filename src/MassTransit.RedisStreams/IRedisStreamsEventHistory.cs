namespace MassTransit;

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;


/// <summary>
/// The event log of a Redis Streams bus: the events kept in its streams, read by message type, replayed to endpoints, and
/// where endpoints stand in them. With <c>UsingRedisStreams</c> it is registered in the container, bound to the bus's
/// connection and key prefix (<see cref="IRedisStreamsEventHistory{TBus}" /> for an additional bus); without a container, create a
/// <see cref="RedisStreamsEventHistory" />.
/// </summary>
/// <remarks>
/// The events of a type are those in its event stream, in the streams of the types derived from it (as its consumers
/// receive them), and in the streams of older contracts registered with
/// <see cref="IRedisStreamsBusFactoryConfigurator.UpgradeEvent{TOld,TNew}" />. Several streams are read together in the
/// order the events were appended.
/// </remarks>
public interface IRedisStreamsEventHistory
{
    /// <summary>The newest events of <typeparamref name="T" />, newest first.</summary>
    /// <param name="count">How many at most.</param>
    /// <param name="from">The oldest position to include; the beginning when null.</param>
    /// <param name="to">The newest position to include; the end when null.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <typeparam name="T">The message type.</typeparam>
    Task<IReadOnlyList<RedisStreamsStoredEvent<T>>> GetEvents<T>(int count = 10, RedisStreamsPosition? from = null, RedisStreamsPosition? to = null,
        CancellationToken cancellationToken = default)
        where T : class;

    /// <summary>
    /// The events of <typeparamref name="T" /> between two positions, oldest first, read page by page as they are enumerated,
    /// so that a stream of any length never sits in memory at once.
    /// </summary>
    /// <param name="from">The oldest position to include; the beginning when null.</param>
    /// <param name="to">The newest position to include; the end (as it is when the read gets there) when null.</param>
    /// <param name="count">How many at most; all when null.</param>
    /// <param name="cancellationToken">Ends the enumeration.</param>
    /// <typeparam name="T">The message type.</typeparam>
    IAsyncEnumerable<RedisStreamsStoredEvent<T>> ReadEvents<T>(RedisStreamsPosition? from = null, RedisStreamsPosition? to = null, long? count = null,
        CancellationToken cancellationToken = default)
        where T : class;

    /// <summary>
    /// The event stream of <typeparamref name="T" />: its length, first and last entries, memory, and every consumer group
    /// on it with its pending entries, lag, last delivered entry and consumers.
    /// </summary>
    /// <typeparam name="T">The message type.</typeparam>
    Task<RedisStreamsStreamInfo> GetStreamInfo<T>(CancellationToken cancellationToken = default)
        where T : class;

    /// <summary>
    /// Every stream of the bus — event streams, queues, and their error and skipped streams — as
    /// <see cref="GetStreamInfo{T}" /> describes one, ordered by kind and name.
    /// </summary>
    Task<IReadOnlyList<RedisStreamsStreamInfo>> GetOverview(CancellationToken cancellationToken = default);

    /// <summary>
    /// Delivers past events of <typeparamref name="T" /> again to one receive endpoint: each is appended to the endpoint's
    /// queue stream, oldest first, marked as a replay (<see cref="RedisStreamsMessageContext.IsReplay" />), and goes through
    /// the endpoint's normal consume pipeline — retries, <c>_error</c>, <c>Fault&lt;T&gt;</c>. No other endpoint receives them,
    /// and nothing is appended to the event stream. Runs page by page, in bounded memory.
    /// </summary>
    /// <param name="toEndpoint">The receive endpoint's name. It must consume <typeparamref name="T" /> and have run once.</param>
    /// <param name="from">The oldest position to replay; the beginning when null.</param>
    /// <param name="to">The newest position to replay; the end as it is when the replay starts, when null.</param>
    /// <param name="count">How many events at most; all when null.</param>
    /// <param name="progress">Told the number replayed so far, after each page.</param>
    /// <param name="cancellationToken">Stops between pages; what was replayed stays replayed.</param>
    /// <typeparam name="T">The message type.</typeparam>
    /// <returns>The number of events replayed.</returns>
    Task<long> Replay<T>(string toEndpoint, RedisStreamsPosition? from = null, RedisStreamsPosition? to = null, long? count = null,
        IProgress<long>? progress = null, CancellationToken cancellationToken = default)
        where T : class;

    /// <summary>
    /// <see cref="Replay{T}" /> to every receive endpoint that consumes <typeparamref name="T" />: each endpoint with a
    /// consumer group on the type's streams.
    /// </summary>
    /// <returns>For each endpoint, the number of events replayed to it.</returns>
    Task<IReadOnlyDictionary<string, long>> ReplayToConsumers<T>(RedisStreamsPosition? from = null, RedisStreamsPosition? to = null, long? count = null,
        IProgress<long>? progress = null, CancellationToken cancellationToken = default)
        where T : class;

    /// <summary>
    /// Moves a receive endpoint's position in every event stream it reads (<c>XGROUP SETID</c>): back, so that its consumers
    /// process the events from <paramref name="to" /> on again — to rebuild state — or forward, to skip a backlog. Safe while
    /// the endpoint runs: entries its instances hold are still finished and acknowledged. Its queue stream is not moved.
    /// </summary>
    /// <param name="endpoint">The receive endpoint's name.</param>
    /// <param name="to">The first event to deliver again (or next): an entry ID or a time.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The streams moved, with the entry ID each group now stands at.</returns>
    Task<IReadOnlyDictionary<string, string>> Rewind(string endpoint, RedisStreamsPosition to, CancellationToken cancellationToken = default);
}


/// <summary>The event log of an additional bus (MultiBus) <typeparamref name="TBus" />; see <see cref="IRedisStreamsEventHistory" />.</summary>
/// <typeparam name="TBus">The bus interface.</typeparam>
public interface IRedisStreamsEventHistory<TBus> :
    IRedisStreamsEventHistory
    where TBus : class, IBus
{
}
