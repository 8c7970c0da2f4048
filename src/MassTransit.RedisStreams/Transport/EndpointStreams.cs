namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;


/// <summary>The streams one receive endpoint reads, as its read loop, its reader and its keeper see them.</summary>
interface IEndpointStreams
{
    /// <summary>The streams, queue first; the array is replaced, never changed, when the set changes.</summary>
    ReceiveStream[] Streams { get; }

    /// <summary>The endpoint's consumer group on every stream.</summary>
    string Group { get; }

    /// <summary>Sets the streams up: the subscriptions, the groups, the subscriber registrations; finds derived types' streams.</summary>
    Task Setup();

    /// <summary>Where the wake channels are subscribed; null when one has no live subscription.</summary>
    string? WakeSubscriptions { get; }

    /// <summary>On a Redis Cluster, whether an append cleared a wake flag whose wake-up did not arrive.</summary>
    Task<bool> AnyWakeFlagCleared();

    /// <summary>Renews the expiry of a temporary endpoint's queue stream.</summary>
    Task RenewExpiry();

    /// <summary>Checks that Redis answers.</summary>
    Task Ping();

    /// <summary>Removes the group's consumers idle for the dead consumer timeout with nothing pending.</summary>
    Task RemoveDeadConsumers();
}


/// <summary>
/// The streams one receive endpoint reads: its queue stream, the event stream of each type it consumes and the streams of the
/// types derived from those. Sets up the endpoint's consumer group on each of them and subscribes to their wake channels.
/// </summary>
sealed class EndpointStreams :
    IEndpointStreams
{
    const string GroupStartBeginning = "0";

    readonly RedisStreamsReceiveEndpointContext _context;
    readonly IReadOnlyList<RedisKey> _eventStreams;
    readonly RedisGateway _redis;
    readonly Action<RedisKey, WakeReason> _onWake;
    readonly ConcurrentDictionary<RedisKey, Action<RedisChannel, RedisValue>> _wakeSubscriptions;
    ReceiveStream[] _streams;

    public EndpointStreams(RedisStreamsReceiveEndpointContext context, Action<RedisKey, WakeReason> onWake)
    {
        _context = context;
        _redis = context.BusContext.Redis;
        _onWake = onWake;
        _eventStreams = context.GetSubscribedEntityNames().Select(x => _redis.Keys.Events(x)).ToList();
        _wakeSubscriptions = new ConcurrentDictionary<RedisKey, Action<RedisChannel, RedisValue>>();
        _streams = [];
    }

    public ReceiveStream[] Streams => Volatile.Read(ref _streams);

    public string Group => _context.QueueName;

    /// <summary>
    /// Registers the endpoint as a subscriber of each type it consumes, finds the streams to read, and makes sure the consumer
    /// group exists on each (creating a lost one again where the endpoint last read). Safe to repeat: after a failure, and
    /// whenever a publisher announces a new derived type. Called by the endpoint's read loop only, never concurrently.
    /// </summary>
    /// <remarks>
    /// What can go together does: the consumer name lease, the wake channel subscriptions and the groups on the streams known
    /// up front in one round trip; the subscriber registrations in the next (they must follow the subscriptions, so that a
    /// derived type announced after a registration read the sources is heard); the groups and subscriptions of newly found
    /// derived types' streams in a third, only when there are any.
    /// </remarks>
    public async Task Setup()
    {
        RedisValue startPosition = _context.StartPosition;
        var current = Streams;
        var known = _eventStreams.Prepend(_context.QueueKey).Select(key => current.FirstOrDefault(x => x.Key == key) ?? CreateStream(key)).ToList();

        var lease = _context.BusContext.Identity.Acquire();
        await Task.WhenAll(Subscribe(known), CreateGroups(known, startPosition), lease).ConfigureAwait(false);

        var registrations = _eventStreams.Select(eventStream => _redis.Types.RegisterSubscriber(eventStream, Group, startPosition)).ToList();
        var expiry = _context.Temporary ? RenewExpiry() : Task.CompletedTask;
        await Task.WhenAll(Task.WhenAll(registrations), expiry).ConfigureAwait(false);

        // A copy: the sources found are told from the streams known up front by the count.
        var streams = new List<ReceiveStream>(known);
        foreach (var registration in registrations)
        {
            foreach (var source in await registration.ConfigureAwait(false))
            {
                if (streams.All(x => x.Key != source))
                    streams.Add(current.FirstOrDefault(x => x.Key == source) ?? CreateStream(source));
            }
        }

        if (streams.Count > known.Count)
        {
            var sources = streams.Skip(known.Count).ToList();
            await Task.WhenAll(Subscribe(sources), CreateGroups(sources, startPosition)).ConfigureAwait(false);
        }

        Volatile.Write(ref _streams, streams.ToArray());
    }

    /// <summary>
    /// Subscribes to the wake channels of the streams not subscribed yet, all at once; each subscription is recorded as it
    /// succeeds, so that one that fails leaves none of the others unrecorded (and never unsubscribed).
    /// </summary>
    Task Subscribe(IReadOnlyList<ReceiveStream> streams)
    {
        return Task.WhenAll(streams.Where(x => !_wakeSubscriptions.ContainsKey(x.Key)).Select(Subscribe));
    }

    async Task Subscribe(ReceiveStream stream)
    {
        _wakeSubscriptions[stream.Key] = await _redis.Wake.Subscribe(stream.Key, _onWake).ConfigureAwait(false);
    }

    Task<bool[]> CreateGroups(IEnumerable<ReceiveStream> streams, RedisValue startPosition) =>
        Task.WhenAll(streams.Select(stream => _redis.Groups.CreateGroup(stream.Key, Group, GetGroupPosition(stream, startPosition))));

    /// <summary>
    /// Where the wake channels the endpoint listens on are subscribed, or null when one has no live subscription on the
    /// right server (see <see cref="IWakeChannels.GetSubscriptions" />). Called by the read loop only.
    /// </summary>
    public string? WakeSubscriptions => _redis.Wake.GetSubscriptions(_wakeSubscriptions.Keys);

    /// <summary>
    /// On a Redis Cluster, whether an append cleared a wake flag of the endpoint's streams without its wake-up arriving (see
    /// <see cref="IWakeChannels.AnyFlagCleared" />). Called by the read loop only.
    /// </summary>
    public Task<bool> AnyWakeFlagCleared() => _redis.Wake.AnyFlagCleared(Streams.Select(x => x.Key));

    /// <summary>Renews the expiry of a temporary endpoint's stream, which runs out once its process is gone.</summary>
    public Task RenewExpiry() => _redis.Admin.Expire(_context.QueueKey, _context.BusContext.Settings.TemporaryStreamExpiry);

    /// <summary>Checks that Redis answers, for an endpoint that reads nothing yet but must notice an outage.</summary>
    public Task Ping() => _redis.Admin.Ping();

    /// <summary>
    /// Deletes the group's other consumers that have been idle for the dead consumer timeout with nothing pending, in every
    /// stream. One with pending entries stays, so that they are never lost with it.
    /// </summary>
    public async Task RemoveDeadConsumers()
    {
        var timeout = _context.BusContext.Settings.DeadConsumerTimeout;
        var consumer = _context.BusContext.ConsumerName;

        foreach (var stream in Streams)
        {
            var removed = await _redis.Pending.RemoveIdleConsumers(stream.Key, Group, timeout, null, consumer).ConfigureAwait(false);
            if (removed.Length > 0)
            {
                LogContext.Info?.Log("Removed consumers idle longer than {Timeout} with nothing pending from {Stream} {Group}: {Consumers}", timeout,
                    stream.Key, Group, string.Join(", ", removed));
            }
        }
    }

    /// <summary>
    /// Unsubscribes from the wake channels; a temporary endpoint also deletes its queue stream and its consumer groups on the
    /// event streams, since nothing will ever read them again.
    /// </summary>
    public async Task Teardown()
    {
        foreach (var subscription in _wakeSubscriptions)
            await IgnoreFailure(_redis.Wake.Unsubscribe(subscription.Key, subscription.Value)).ConfigureAwait(false);

        _wakeSubscriptions.Clear();

        if (!_context.Temporary)
        {
            // A consumer with nothing pending is removed at once; one with pending entries (released, or failed) stays, so
            // that they are not lost with it, and is removed by another instance once they are claimed and it has been idle
            // long enough.
            if (_context.BusContext.Identity.CurrentName is { } consumer)
            {
                foreach (var stream in Streams)
                    await IgnoreFailure(_redis.Pending.RemoveIdleConsumers(stream.Key, Group, TimeSpan.Zero, consumer, "")).ConfigureAwait(false);
            }

            return;
        }

        await IgnoreFailure(_redis.Admin.DeleteStream(_context.QueueKey)).ConfigureAwait(false);

        foreach (var eventStream in _eventStreams)
            await IgnoreFailure(_redis.Types.UnregisterSubscriber(eventStream, Group)).ConfigureAwait(false);

        foreach (var stream in Streams.Where(x => !x.IsQueue))
            await IgnoreFailure(_redis.Admin.DestroyGroup(stream.Key, Group)).ConfigureAwait(false);
    }

    ReceiveStream CreateStream(RedisKey key) => new(key, key == _context.QueueKey);

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
