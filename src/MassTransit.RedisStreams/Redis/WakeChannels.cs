namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Generic;
using System.Text;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// The wake channels of streams: how an idle endpoint learns of new entries, of a new derived type to read, and of entries
/// another instance released. The flags that arm them are set with the read (<see cref="IGroupReads.ReadNew" />).
/// </summary>
interface IWakeChannels
{
    /// <summary>Subscribes to a stream's wake channel; the handler learns what happened.</summary>
    /// <returns>The subscription, to pass to <see cref="Unsubscribe" />.</returns>
    /// <seealso href="https://redis.io/commands/subscribe" />
    Task<Action<RedisChannel, RedisValue>> Subscribe(RedisKey stream, Action<RedisKey, WakeReason> handler);

    /// <summary>Removes one subscription; other endpoints of the process that read the same stream keep theirs.</summary>
    Task Unsubscribe(RedisKey stream, Action<RedisChannel, RedisValue> subscription);

    /// <summary>
    /// Where the wake channels of <paramref name="streams" /> are subscribed right now, as text that changes when a
    /// subscription moves to another server; null when one has no live subscription, or, on a Redis Cluster, is not on the
    /// node that serves its stream's slot. A local look-up: no command is sent.
    /// </summary>
    string? GetSubscriptions(IEnumerable<RedisKey> streams);

    /// <summary>
    /// On a Redis Cluster, whether the wake flag of one of <paramref name="streams" /> is gone: an append cleared it, so its
    /// wake-up went out, and if the reader is still waiting, it did not arrive (an append redirected with ASK publishes on the
    /// importing node). One EXISTS per stream, pipelined; always false on one Redis, where no command is sent.
    /// </summary>
    Task<bool> AnyFlagCleared(IEnumerable<RedisKey> streams);

    /// <summary>Tells the readers of a stream what happened (PUBLISH, or SPUBLISH on a Redis Cluster).</summary>
    /// <seealso href="https://redis.io/commands/publish" />
    Task Announce(RedisKey stream, WakeReason reason);
}


/// <inheritdoc />
sealed class WakeChannels :
    IWakeChannels
{
    static readonly RedisValue Entries = "x";
    static readonly RedisValue Topology = "t";
    static readonly RedisValue Claim = "c";

    readonly RedisConnection _connection;
    readonly StreamKeys _keys;

    public WakeChannels(RedisConnection connection, StreamKeys keys)
    {
        _connection = connection;
        _keys = keys;
    }

    /// <summary>The command that publishes on a wake channel: sharded on a Redis Cluster, where a channel lives on its slot's node.</summary>
    public static RedisValue PublishCommand(bool cluster) => cluster ? "SPUBLISH" : "PUBLISH";

    public async Task<Action<RedisChannel, RedisValue>> Subscribe(RedisKey stream, Action<RedisKey, WakeReason> handler)
    {
        var multiplexer = await _connection.GetMultiplexer().ConfigureAwait(false);

        Action<RedisChannel, RedisValue> subscription = (_, value) =>
            handler(stream, value == Topology ? WakeReason.Topology : value == Claim ? WakeReason.Claim : WakeReason.Entries);

        await multiplexer.GetSubscriber().SubscribeAsync(Channel(multiplexer, stream), subscription).ConfigureAwait(false);

        return subscription;
    }

    public async Task Unsubscribe(RedisKey stream, Action<RedisChannel, RedisValue> subscription)
    {
        var multiplexer = await _connection.GetMultiplexer().ConfigureAwait(false);

        await multiplexer.GetSubscriber().UnsubscribeAsync(Channel(multiplexer, stream), subscription).ConfigureAwait(false);
    }

    public string? GetSubscriptions(IEnumerable<RedisKey> streams)
    {
        var connecting = _connection.GetMultiplexer();
        if (!connecting.IsCompletedSuccessfully)
            return null;

        var multiplexer = connecting.Result;
        var cluster = _connection.IsCluster(multiplexer);
        var subscriber = multiplexer.GetSubscriber();
        var text = new StringBuilder();
        foreach (var stream in streams)
        {
            var endpoint = subscriber.SubscribedEndpoint(Channel(multiplexer, stream));
            if (endpoint == null)
                return null;

            if (cluster)
            {
                try
                {
                    if (multiplexer.GetServer(stream, null, CommandFlags.DemandMaster) is { } owner && !owner.EndPoint.Equals(endpoint))
                        return null;
                }
                catch (RedisException)
                {
                    return null;
                }
            }

            text.Append(endpoint).Append(' ');
        }

        return text.ToString();
    }

    public async Task<bool> AnyFlagCleared(IEnumerable<RedisKey> streams)
    {
        var multiplexer = await _connection.GetMultiplexer().ConfigureAwait(false);
        if (!_connection.IsCluster(multiplexer))
            return false;

        var database = multiplexer.GetDatabase();
        var checks = new List<Task<bool>>();
        foreach (var stream in streams)
            checks.Add(database.KeyExistsAsync(_keys.Wake(stream)));

        try
        {
            foreach (var check in checks)
            {
                if (!await check.ConfigureAwait(false))
                    return true;
            }
        }
        catch (RedisException)
        {
            // Not known: read again and arm again, as after a cleared flag.
            return true;
        }

        return false;
    }

    public async Task Announce(RedisKey stream, WakeReason reason)
    {
        var multiplexer = await _connection.GetMultiplexer().ConfigureAwait(false);
        var message = reason switch
        {
            WakeReason.Topology => Topology,
            WakeReason.Claim => Claim,
            _ => Entries
        };

        await multiplexer.GetDatabase().PublishAsync(Channel(multiplexer, stream), message).ConfigureAwait(false);
    }

    RedisChannel Channel(IConnectionMultiplexer multiplexer, RedisKey stream) => _keys.WakeChannel(stream, _connection.IsCluster(multiplexer));
}
