namespace MassTransit.RedisStreams.History;

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;


/// <summary>The event log of an additional bus, registered as <see cref="IEventHistory{TBus}" />.</summary>
sealed class EventHistory<TBus> :
    IEventHistory<TBus>
    where TBus : class, IBus
{
    readonly IEventHistory _history;

    public EventHistory(IEventHistory history)
    {
        _history = history;
    }

    public Task<IReadOnlyList<StoredEvent<T>>> GetEvents<T>(int count = 10, EventPosition? from = null, EventPosition? to = null,
        CancellationToken cancellationToken = default)
        where T : class => _history.GetEvents<T>(count, from, to, cancellationToken);

    public IAsyncEnumerable<StoredEvent<T>> ReadEvents<T>(EventPosition? from = null, EventPosition? to = null, long? count = null,
        CancellationToken cancellationToken = default)
        where T : class => _history.ReadEvents<T>(from, to, count, cancellationToken);

    public Task<EventStreamInfo> GetStreamInfo<T>(CancellationToken cancellationToken = default)
        where T : class => _history.GetStreamInfo<T>(cancellationToken);

    public Task<IReadOnlyList<EventStreamInfo>> GetOverview(CancellationToken cancellationToken = default) => _history.GetOverview(cancellationToken);

    public Task<long> Replay<T>(string toEndpoint, EventPosition? from = null, EventPosition? to = null, long? count = null,
        IProgress<long>? progress = null, CancellationToken cancellationToken = default)
        where T : class => _history.Replay<T>(toEndpoint, from, to, count, progress, cancellationToken);

    public Task<IReadOnlyDictionary<string, long>> ReplayToConsumers<T>(EventPosition? from = null, EventPosition? to = null, long? count = null,
        IProgress<long>? progress = null, CancellationToken cancellationToken = default)
        where T : class => _history.ReplayToConsumers<T>(from, to, count, progress, cancellationToken);

    public Task<IReadOnlyDictionary<string, string>> Rewind(string endpoint, EventPosition to, CancellationToken cancellationToken = default) =>
        _history.Rewind(endpoint, to, cancellationToken);
}
