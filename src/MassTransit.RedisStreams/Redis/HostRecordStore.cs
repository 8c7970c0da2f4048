namespace MassTransit.RedisStreams.Redis;

using System.Threading.Tasks;


/// <summary>The host records of the processes that wrote entries, by the ID their entries name in <c>MT-Host</c>.</summary>
interface IHostRecordStore
{
    /// <summary>Stores a record under its ID unless one is stored already (HSETNX).</summary>
    /// <seealso href="https://redis.io/commands/hsetnx" />
    Task Store(string id, string json);

    /// <summary>The record named <paramref name="id" />, or null. A blocking read: it runs once per host.</summary>
    /// <seealso href="https://redis.io/commands/hget" />
    string? Get(string id);
}


/// <inheritdoc />
sealed class HostRecordStore :
    IHostRecordStore
{
    readonly RedisConnection _connection;
    readonly StreamKeys _keys;

    public HostRecordStore(RedisConnection connection, StreamKeys keys)
    {
        _connection = connection;
        _keys = keys;
    }

    public async Task Store(string id, string json)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        await database.HashSetAsync(_keys.Hosts, id, json, StackExchange.Redis.When.NotExists).ConfigureAwait(false);
    }

    public string? Get(string id)
    {
        return _connection.GetMultiplexer().GetAwaiter().GetResult().GetDatabase().HashGet(_keys.Hosts, id);
    }
}
