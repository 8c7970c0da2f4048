namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// The gateway: every command the transport sends to Redis is sent from this class, and every key it names comes from
/// <see cref="StreamKeys" />. Each command touches one key, or keys that share a hash tag, so that all of them also run
/// on Redis Cluster.
/// </summary>
sealed class RedisStreamsClient
{
    /// <summary>
    /// XADD, then — if an idle reader armed the stream's wake flag — clear the flag and PUBLISH on the wake channel. One
    /// round trip; KEYS[1] is the stream and KEYS[2] its wake flag, which share a hash slot. ARGV[1] = "1" adds only when the
    /// stream exists (temporary endpoints), ARGV[2] is the wake channel, the rest are field/value pairs.
    /// </summary>
    const string AppendScript = """
        local id
        if ARGV[1] == '1' then
          id = redis.call('XADD', KEYS[1], 'NOMKSTREAM', '*', unpack(ARGV, 3))
        else
          id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
        end
        if id and redis.call('DEL', KEYS[2]) == 1 then
          redis.call('PUBLISH', ARGV[2], 'x')
        end
        return id
        """;

    /// <summary>The number of leading ARGV slots an append reserves before the fields.</summary>
    public const int AppendHeaderSlots = 2;

    static readonly RedisValue WakeEntry = "x";
    static readonly RedisValue WakeTopology = "t";

    public RedisStreamsClient(RedisConnection connection, StreamKeys keys)
    {
        Connection = connection;
        Keys = keys;
    }

    public RedisConnection Connection { get; }
    public StreamKeys Keys { get; }

    /// <summary>
    /// Creates an argument array for <see cref="Append" /> with room for <paramref name="fieldCount" /> field/value pairs.
    /// </summary>
    public static RedisValue[] CreateAppendArguments(int fieldCount) => new RedisValue[AppendHeaderSlots + fieldCount * 2];

    /// <summary>
    /// Appends an entry (XADD) and wakes idle readers of the stream.
    /// </summary>
    /// <param name="stream">The stream.</param>
    /// <param name="arguments">From <see cref="CreateAppendArguments" />, fields filled in from index <see cref="AppendHeaderSlots" />.</param>
    /// <param name="onlyIfStreamExists">When true (XADD NOMKSTREAM), nothing is added to a stream that does not exist.</param>
    /// <returns>The new entry's ID, or null when <paramref name="onlyIfStreamExists" /> and the stream did not exist.</returns>
    /// <seealso href="https://redis.io/commands/xadd" />
    public async Task<string?> Append(RedisKey stream, RedisValue[] arguments, bool onlyIfStreamExists)
    {
        arguments[0] = onlyIfStreamExists ? "1" : "0";
        arguments[1] = StreamKeys.WakeChannel(stream).ToString();

        var database = await Connection.GetDatabase().ConfigureAwait(false);
        var result = await database.ScriptEvaluateAsync(AppendScript, [stream, StreamKeys.Wake(stream)], arguments).ConfigureAwait(false);

        return result.IsNull ? null : (string?)result;
    }

    /// <summary>
    /// Creates a consumer group (XGROUP CREATE ... MKSTREAM); a group that exists already is left as it is.
    /// </summary>
    /// <returns>True when the group was created, false when it existed.</returns>
    /// <seealso href="https://redis.io/commands/xgroup-create" />
    public async Task<bool> CreateGroup(RedisKey stream, string group, RedisValue position)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);
        try
        {
            return await database.StreamCreateConsumerGroupAsync(stream, group, position, true).ConfigureAwait(false);
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            return false;
        }
    }

    /// <summary>
    /// Reads entries for a consumer of a group (XREADGROUP, never blocking): position ">" reads new entries, an ID reads the
    /// consumer's own pending entries after that ID.
    /// </summary>
    /// <seealso href="https://redis.io/commands/xreadgroup" />
    public async Task<StreamEntry[]> ReadGroup(RedisKey stream, string group, string consumer, RedisValue position, int count)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamReadGroupAsync(stream, group, consumer, position, count).ConfigureAwait(false);
    }

    /// <summary>Acknowledges entries (XACK), any number in one command.</summary>
    /// <seealso href="https://redis.io/commands/xack" />
    public async Task<long> Acknowledge(RedisKey stream, string group, RedisValue[] ids)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamAcknowledgeAsync(stream, group, ids).ConfigureAwait(false);
    }

    /// <summary>
    /// Sets the wake flag of each stream (SET {S}:wake 1 PX ttl), so that the next append publishes a wake-up. Pipelined.
    /// </summary>
    public async Task ArmWake(IReadOnlyList<RedisKey> streams, TimeSpan ttl)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        var tasks = new Task[streams.Count];
        for (var i = 0; i < streams.Count; i++)
            tasks[i] = database.StringSetAsync(StreamKeys.Wake(streams[i]), WakeEntry, ttl);

        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    /// <summary>
    /// Subscribes to the wake channel of a stream. The handler gets true for "new entries", false for "topology changed".
    /// </summary>
    /// <returns>The subscription, to pass to <see cref="UnsubscribeWake" />.</returns>
    public async Task<Action<RedisChannel, RedisValue>> SubscribeWake(RedisKey stream, Action<RedisKey, bool> handler)
    {
        var multiplexer = await Connection.GetMultiplexer().ConfigureAwait(false);

        Action<RedisChannel, RedisValue> subscription = (_, value) => handler(stream, value != WakeTopology);

        await multiplexer.GetSubscriber().SubscribeAsync(StreamKeys.WakeChannel(stream), subscription).ConfigureAwait(false);

        return subscription;
    }

    /// <summary>Removes one subscription; other endpoints of the process that read the same stream keep theirs.</summary>
    public async Task UnsubscribeWake(RedisKey stream, Action<RedisChannel, RedisValue> subscription)
    {
        var multiplexer = await Connection.GetMultiplexer().ConfigureAwait(false);

        await multiplexer.GetSubscriber().UnsubscribeAsync(StreamKeys.WakeChannel(stream), subscription).ConfigureAwait(false);
    }

    /// <summary>
    /// Records that consumer group <paramref name="group" /> consumes the type of <paramref name="eventStream" /> starting at
    /// <paramref name="position" />, then returns the streams of the types derived from it, which the group must read as well.
    /// </summary>
    public async Task<RedisKey[]> RegisterSubscriber(RedisKey eventStream, string group, RedisValue position)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        // Same hash slot, same connection: the HSET is applied before the SMEMBERS, which is what makes the
        // subscriber/source handshake race-free (see AddSource).
        var register = database.HashSetAsync(StreamKeys.Subscribers(eventStream), group, position);
        var sources = database.SetMembersAsync(StreamKeys.Sources(eventStream));

        await register.ConfigureAwait(false);

        return Array.ConvertAll(await sources.ConfigureAwait(false), x => (RedisKey)(string?)x);
    }

    /// <summary>Returns the streams of the types derived from the type of <paramref name="eventStream" />.</summary>
    public async Task<RedisKey[]> GetSources(RedisKey eventStream)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        return Array.ConvertAll(await database.SetMembersAsync(StreamKeys.Sources(eventStream)).ConfigureAwait(false), x => (RedisKey)(string?)x);
    }

    /// <summary>Removes a consumer group's subscription to the type of <paramref name="eventStream" />.</summary>
    public async Task UnregisterSubscriber(RedisKey eventStream, string group)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        await database.HashDeleteAsync(StreamKeys.Subscribers(eventStream), group).ConfigureAwait(false);
    }

    /// <summary>
    /// Records that the messages of <paramref name="sourceStream" /> are also of the type of <paramref name="eventStream" />
    /// and returns the groups that consume that type with their start positions. The caller creates those groups on
    /// <paramref name="sourceStream" /> before it appends to it, so a subscriber that registered first misses nothing; one that
    /// registers later finds the source in the set.
    /// </summary>
    public async Task<HashEntry[]> AddSource(RedisKey eventStream, RedisKey sourceStream)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        var add = database.SetAddAsync(StreamKeys.Sources(eventStream), sourceStream.ToString());
        var subscribers = database.HashGetAllAsync(StreamKeys.Subscribers(eventStream));

        var added = await add.ConfigureAwait(false);
        var result = await subscribers.ConfigureAwait(false);

        if (added)
        {
            await database.PublishAsync(StreamKeys.WakeChannel(eventStream), WakeTopology).ConfigureAwait(false);
        }

        return result;
    }

    /// <summary>Checks that the server answers (PING).</summary>
    public async Task Ping()
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        await database.PingAsync().ConfigureAwait(false);
    }

    /// <summary>Reads entries in ID order (XRANGE), from <paramref name="start" /> ("-" for the first) on.</summary>
    /// <seealso href="https://redis.io/commands/xrange" />
    public async Task<StreamEntry[]> Range(RedisKey stream, RedisValue start, int count)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamRangeAsync(stream, start, "+", count).ConfigureAwait(false);
    }

    /// <summary>Deletes entries from a stream (XDEL).</summary>
    /// <seealso href="https://redis.io/commands/xdel" />
    public async Task<long> Delete(RedisKey stream, RedisValue[] ids)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamDeleteAsync(stream, ids).ConfigureAwait(false);
    }

    /// <summary>Sets a stream's time to live (PEXPIRE); temporary endpoints refresh it while they run.</summary>
    public async Task Expire(RedisKey stream, TimeSpan ttl)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        await database.KeyExpireAsync(stream, ttl).ConfigureAwait(false);
    }

    /// <summary>Deletes a stream with its groups and its wake flag.</summary>
    public async Task DeleteStream(RedisKey stream)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        await Task.WhenAll(database.KeyDeleteAsync(stream), database.KeyDeleteAsync(StreamKeys.Wake(stream))).ConfigureAwait(false);
    }

    /// <summary>Deletes a consumer group (XGROUP DESTROY) with its pending entries list.</summary>
    public async Task DestroyGroup(RedisKey stream, string group)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        await database.StreamDeleteConsumerGroupAsync(stream, group).ConfigureAwait(false);
    }
}
