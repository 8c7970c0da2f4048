namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;


/// <summary>
/// The streams one receive endpoint reads: its queue stream, the event stream of each type it consumes and the streams of the
/// types derived from those. Sets up the endpoint's consumer group on each of them and subscribes to their wake channels.
/// </summary>
sealed class EndpointStreams
{
    const string GroupStartBeginning = "0";

    readonly RedisStreamsClient _client;
    readonly RedisStreamsReceiveEndpointContext _context;
    readonly IReadOnlyList<string> _entityNames;
    readonly Action<RedisKey, WakeReason> _onWake;
    readonly CancellationToken _stopped;
    readonly Dictionary<RedisKey, Action<RedisChannel, RedisValue>> _wakeSubscriptions;
    ReceiveStream[] _streams;

    public EndpointStreams(RedisStreamsReceiveEndpointContext context, Action<RedisKey, WakeReason> onWake, CancellationToken stopped)
    {
        _context = context;
        _client = context.BusContext.Client;
        _onWake = onWake;
        _stopped = stopped;
        _entityNames = context.GetSubscribedEntityNames();
        _wakeSubscriptions = new Dictionary<RedisKey, Action<RedisChannel, RedisValue>>();
        _streams = [];
    }

    public ReceiveStream[] Streams => Volatile.Read(ref _streams);

    public string Group => _context.QueueName;

    /// <summary>
    /// Registers the endpoint as a subscriber of each type it consumes, finds the streams to read, and makes sure the consumer
    /// group exists on each (creating a lost one again where the endpoint last read). Safe to repeat: after a failure, and
    /// whenever a publisher announces a new derived type. Called by the endpoint's read loop only, never concurrently.
    /// </summary>
    public async Task Setup()
    {
        await _context.BusContext.Identity.Acquire().ConfigureAwait(false);

        var keys = new List<RedisKey> { _context.QueueKey };

        // Listen on the queue's and the event streams' channels before registering: a derived type announced on an event
        // stream's channel from then on is heard, and one announced before is among the sources the registration returns.
        foreach (var key in _entityNames.Select(entityName => _client.Keys.Events(entityName)).Prepend(_context.QueueKey))
        {
            if (!_wakeSubscriptions.ContainsKey(key))
                _wakeSubscriptions.Add(key, await _client.SubscribeWake(key, _onWake).ConfigureAwait(false));
        }

        RedisValue startPosition = _context.StartPosition;

        var subscriptions = await Task.WhenAll(_entityNames.Select(async entityName =>
        {
            var eventStream = _client.Keys.Events(entityName);
            var sources = await _client.RegisterSubscriber(eventStream, Group, startPosition).ConfigureAwait(false);

            return sources.Prepend(eventStream);
        })).ConfigureAwait(false);

        keys.AddRange(subscriptions.SelectMany(x => x));

        var current = Streams;
        var streams = keys.Distinct().Select(key => current.FirstOrDefault(x => x.Key == key) ?? CreateStream(key)).ToArray();

        await Task.WhenAll(streams.Select(stream => _client.CreateGroup(stream.Key, Group, GetGroupPosition(stream, startPosition))))
            .ConfigureAwait(false);

        if (_context.Temporary)
            await _client.Expire(_context.QueueKey, _context.BusContext.Settings.TemporaryStreamExpiry).ConfigureAwait(false);

        foreach (var stream in streams)
        {
            if (!_wakeSubscriptions.ContainsKey(stream.Key))
                _wakeSubscriptions.Add(stream.Key, await _client.SubscribeWake(stream.Key, _onWake).ConfigureAwait(false));
        }

        Volatile.Write(ref _streams, streams);
    }

    /// <summary>
    /// Where the wake channels the endpoint listens on are subscribed, or null when one has no live subscription on the
    /// right server (see <see cref="RedisStreamsClient.GetWakeSubscriptions" />). Called by the read loop only.
    /// </summary>
    public string? WakeSubscriptions => _client.GetWakeSubscriptions(_wakeSubscriptions.Keys);

    /// <summary>
    /// On a Redis Cluster, whether an append cleared a wake flag of the endpoint's streams without its wake-up arriving (see
    /// <see cref="RedisStreamsClient.AnyWakeFlagCleared" />). Called by the read loop only.
    /// </summary>
    public Task<bool> AnyWakeFlagCleared() => _client.AnyWakeFlagCleared(Streams.Select(x => x.Key));

    /// <summary>Renews the expiry of a temporary endpoint's stream, which runs out once its process is gone.</summary>
    public Task RenewExpiry()
    {
        return _client.Expire(_context.QueueKey, _context.BusContext.Settings.TemporaryStreamExpiry);
    }

    /// <summary>
    /// Deletes the group's other consumers that have been idle for the dead consumer timeout with nothing pending, in every
    /// stream. One with pending entries stays, so that they are never lost with it.
    /// </summary>
    public async Task RemoveDeadConsumers()
    {
        var settings = _context.BusContext.Settings;
        var consumer = _context.BusContext.ConsumerName;

        foreach (var stream in Streams)
        {
            var removed = await _client.RemoveIdleConsumers(stream.Key, Group, settings.DeadConsumerTimeout, null, consumer).ConfigureAwait(false);

            if (removed.Length > 0)
                LogContext.Info?.Log("Removed consumers idle longer than {Timeout} with nothing pending from {Stream} {Group}: {Consumers}",
                    settings.DeadConsumerTimeout, stream.Key, Group, string.Join(", ", removed));
        }
    }

    /// <summary>
    /// Unsubscribes from the wake channels; a temporary endpoint also deletes its queue stream and its consumer groups on the
    /// event streams, since nothing will ever read them again.
    /// </summary>
    public async Task Teardown()
    {
        foreach (var subscription in _wakeSubscriptions)
            await IgnoreFailure(_client.UnsubscribeWake(subscription.Key, subscription.Value)).ConfigureAwait(false);

        _wakeSubscriptions.Clear();

        if (!_context.Temporary)
        {
            // A consumer with nothing pending is removed at once; one with pending entries (released, or failed) stays, so
            // that they are not lost with it, and is removed by another instance once they are claimed and it has been idle
            // long enough.
            if (_context.BusContext.Identity.CurrentName is { } consumer)
            {
                foreach (var stream in Streams)
                    await IgnoreFailure(_client.RemoveIdleConsumers(stream.Key, Group, TimeSpan.Zero, consumer, "")).ConfigureAwait(false);
            }

            return;
        }

        await IgnoreFailure(_client.DeleteStream(_context.QueueKey)).ConfigureAwait(false);

        foreach (var entityName in _entityNames)
            await IgnoreFailure(_client.UnregisterSubscriber(_client.Keys.Events(entityName), Group)).ConfigureAwait(false);

        foreach (var stream in Streams.Where(x => !x.IsQueue))
            await IgnoreFailure(_client.DestroyGroup(stream.Key, Group)).ConfigureAwait(false);
    }

    ReceiveStream CreateStream(RedisKey key)
    {
        return new ReceiveStream(key, key == _context.QueueKey, new AckBatcher(_client, key, Group, _stopped));
    }

    /// <summary>
    /// A queue stream's group starts at the beginning, so messages sent before the endpoint first ran are received; an event
    /// stream's group starts where the endpoint is configured to. A group lost with Redis data restarts after the last entry
    /// this instance read.
    /// </summary>
    static RedisValue GetGroupPosition(ReceiveStream stream, RedisValue startPosition)
    {
        if (!stream.LastReadId.IsNull)
            return stream.LastReadId;

        return stream.IsQueue ? GroupStartBeginning : startPosition;
    }

    async Task IgnoreFailure(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception exception) when (TransientFailures.IsRedisFailure(exception))
        {
            LogContext.Debug?.Log(exception, "Cleaning up endpoint {Endpoint} failed", _context.InputAddress);
        }
    }
}
