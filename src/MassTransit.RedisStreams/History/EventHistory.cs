namespace MassTransit.RedisStreams.History;

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;


/// <summary>The event log of an additional bus, registered as <see cref="IRedisStreamsEventHistory{TBus}" />.</summary>
sealed class EventHistory<TBus> :
    IRedisStreamsEventHistory<TBus>
    where TBus : class, IBus
{
    readonly IRedisStreamsEventHistory _history;

    public EventHistory(IRedisStreamsEventHistory history)
    {
        _history = history;
    }

    public Task<IReadOnlyList<RedisStreamsStoredEvent<T>>> GetEvents<T>(int count = 10, RedisStreamsPosition? from = null, RedisStreamsPosition? to = null,
        CancellationToken cancellationToken = default)
        where T : class => _history.GetEvents<T>(count, from, to, cancellationToken);

    public IAsyncEnumerable<RedisStreamsStoredEvent<T>> ReadEvents<T>(RedisStreamsPosition? from = null, RedisStreamsPosition? to = null, long? count = null,
        CancellationToken cancellationToken = default)
        where T : class => _history.ReadEvents<T>(from, to, count, cancellationToken);

    public Task<RedisStreamsStreamInfo> GetStreamInfo<T>(CancellationToken cancellationToken = default)
        where T : class => _history.GetStreamInfo<T>(cancellationToken);

    public Task<IReadOnlyList<RedisStreamsStreamInfo>> GetOverview(CancellationToken cancellationToken = default) => _history.GetOverview(cancellationToken);

    public Task<long> Replay<T>(string toEndpoint, RedisStreamsPosition? from = null, RedisStreamsPosition? to = null, long? count = null,
        IProgress<long>? progress = null, CancellationToken cancellationToken = default)
        where T : class => _history.Replay<T>(toEndpoint, from, to, count, progress, cancellationToken);

    public Task<IReadOnlyDictionary<string, long>> ReplayToConsumers<T>(RedisStreamsPosition? from = null, RedisStreamsPosition? to = null, long? count = null,
        IProgress<long>? progress = null, CancellationToken cancellationToken = default)
        where T : class => _history.ReplayToConsumers<T>(from, to, count, progress, cancellationToken);

    public Task<IReadOnlyDictionary<string, string>> Rewind(string endpoint, RedisStreamsPosition to, CancellationToken cancellationToken = default) =>
        _history.Rewind(endpoint, to, cancellationToken);
}
