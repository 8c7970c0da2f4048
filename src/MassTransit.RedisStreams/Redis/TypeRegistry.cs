namespace MassTransit.RedisStreams.Redis;

using System;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// Which event streams hold messages of a type (its own and those of the types derived from it), and which consumer groups
/// consume it: what lets a consumer of a base type receive every derived type published (see docs/architecture.md,
/// Polymorphism).
/// </summary>
interface ITypeRegistry
{
    /// <summary>
    /// Records that <paramref name="group" /> consumes the type of <paramref name="eventStream" /> from
    /// <paramref name="position" />, then returns the streams of the types derived from it, which the group must read too. The
    /// HSET and the SMEMBERS go to one slot over one connection, so Redis runs them in that order: with <see cref="AddSource" />,
    /// a subscriber and a publisher that start together cannot both miss each other.
    /// </summary>
    Task<RedisKey[]> RegisterSubscriber(RedisKey eventStream, string group, RedisValue position);

    /// <summary>Removes a group's registration as a consumer of the type of <paramref name="eventStream" />.</summary>
    Task UnregisterSubscriber(RedisKey eventStream, string group);

    /// <summary>The streams of the types derived from the type of <paramref name="eventStream" />.</summary>
    Task<RedisKey[]> GetSources(RedisKey eventStream);

    /// <summary>The groups registered as consuming the type of <paramref name="eventStream" />, with their start positions.</summary>
    Task<HashEntry[]> GetSubscribers(RedisKey eventStream);

    /// <summary>
    /// Records that the messages of <paramref name="sourceStream" /> are also of the type of <paramref name="eventStream" /> and
    /// returns the groups that consume that type, with their start positions; the caller creates them on
    /// <paramref name="sourceStream" /> before it appends to it. A new source is announced on the type's wake channel, so that
    /// running subscribers read it too.
    /// </summary>
    Task<HashEntry[]> AddSource(RedisKey eventStream, RedisKey sourceStream);
}


/// <inheritdoc />
sealed class TypeRegistry :
    ITypeRegistry
{
    readonly RedisConnection _connection;
    readonly StreamKeys _keys;
    readonly IWakeChannels _wake;

    public TypeRegistry(RedisConnection connection, StreamKeys keys, IWakeChannels wake)
    {
        _connection = connection;
        _keys = keys;
        _wake = wake;
    }

    public async Task<RedisKey[]> RegisterSubscriber(RedisKey eventStream, string group, RedisValue position)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        var register = database.HashSetAsync(_keys.Subscribers(eventStream), group, position);
        var sources = database.SetMembersAsync(_keys.Sources(eventStream));

        await register.ConfigureAwait(false);

        return Array.ConvertAll(await sources.ConfigureAwait(false), x => (RedisKey)(string?)x);
    }

    public async Task UnregisterSubscriber(RedisKey eventStream, string group)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        await database.HashDeleteAsync(_keys.Subscribers(eventStream), group).ConfigureAwait(false);
    }

    public async Task<RedisKey[]> GetSources(RedisKey eventStream)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        return Array.ConvertAll(await database.SetMembersAsync(_keys.Sources(eventStream)).ConfigureAwait(false), x => (RedisKey)(string?)x);
    }

    public async Task<HashEntry[]> GetSubscribers(RedisKey eventStream)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        return await database.HashGetAllAsync(_keys.Subscribers(eventStream)).ConfigureAwait(false);
    }

    public async Task<HashEntry[]> AddSource(RedisKey eventStream, RedisKey sourceStream)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        var add = database.SetAddAsync(_keys.Sources(eventStream), sourceStream.ToString());
        var subscribers = database.HashGetAllAsync(_keys.Subscribers(eventStream));

        var added = await add.ConfigureAwait(false);
        var result = await subscribers.ConfigureAwait(false);

        if (added)
            await _wake.Announce(eventStream, WakeReason.Topology).ConfigureAwait(false);

        return result;
    }
}
