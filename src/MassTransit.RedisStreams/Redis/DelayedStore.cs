namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// Messages held in Redis until they are due (delayed sends, scheduled messages, redelivery), and the announcements of new
/// earliest due times that wake the delayed message pumps.
/// </summary>
interface IDelayedStore
{
    /// <summary>
    /// Holds an entry until <paramref name="due" />, when a pump appends it to <paramref name="stream" />. The stream is
    /// recorded among those with delayed messages, and the token of a <paramref name="cancellable" /> message mapped to it,
    /// first, in the same pipeline, so that neither a starting pump nor a cancel by token can miss it. The same token again
    /// replaces the message.
    /// </summary>
    Task Schedule(RedisKey stream, NewEntry entry, bool onlyIfStreamExists, DateTimeOffset due, string token, bool cancellable);

    /// <summary>
    /// Appends the messages of <paramref name="stream" /> that are due, at most <paramref name="limit" />, each in the same step
    /// as it leaves the delayed set (<c>append.lua</c>, mode <c>due</c>).
    /// </summary>
    /// <returns>How many were appended, the next due time (null when none is left), and the tokens moved that were mapped.</returns>
    Task<(long Moved, DateTimeOffset? NextDue, RedisValue[] Tokens)> MoveDue(RedisKey stream, int limit);

    /// <summary>Removes a held message before it is due; false when it was not held (moved already, or never scheduled).</summary>
    Task<bool> Cancel(RedisKey stream, string token);

    /// <summary>The message held for <paramref name="stream" /> under <paramref name="token" />: its due time and fields; null when none is.</summary>
    /// <seealso href="https://redis.io/commands/zscore" />
    Task<(DateTimeOffset Due, NameValueEntry[] Fields)?> Find(RedisKey stream, string token);

    /// <summary>The stream a scheduling token's message waits for, or null.</summary>
    Task<RedisKey?> GetStreamOf(string token);

    /// <summary>Forgets the tokens of messages that were appended.</summary>
    Task ForgetTokens(RedisValue[] tokens);

    /// <summary>The streams that have, or had, delayed messages.</summary>
    Task<RedisKey[]> GetStreams();

    /// <summary>
    /// Takes <paramref name="stream" /> out of the streams with delayed messages when none waits for it. On one Redis a script
    /// looks and removes in one step; on a Cluster, where the two keys are in different slots, it removes, looks, and adds the
    /// stream back when a message arrived. Either way a message held meanwhile keeps its stream recorded: <see cref="Schedule" />
    /// records it again after holding the first message of an empty set.
    /// </summary>
    /// <returns>True when the stream was taken out.</returns>
    /// <seealso href="https://redis.io/commands/srem" />
    Task<bool> ForgetStreamIfEmpty(RedisKey stream);

    /// <summary>
    /// Forgets which streams <see cref="Schedule" /> recorded, so that the next message of each records its stream again:
    /// whatever happened to the set (a Redis that restarted without its data), it is whole again after.
    /// </summary>
    void ForgetRecordedStreams();

    /// <summary>How many messages wait for <paramref name="stream" />, and when the first is due.</summary>
    Task<(long Count, DateTimeOffset? NextDue)> GetSummary(RedisKey stream);

    /// <summary>The first <paramref name="count" /> messages waiting for <paramref name="stream" />, by due time, with their fields.</summary>
    Task<List<(string Token, DateTimeOffset Due, NameValueEntry[] Fields)>> GetHeld(RedisKey stream, int count);

    /// <summary>Subscribes to the announcements of new earliest due times: the handler gets the stream and the due time.</summary>
    Task SubscribeAnnouncements(Action<RedisKey, DateTimeOffset> handler);

    /// <summary>Ends the subscription to the announcements.</summary>
    Task UnsubscribeAnnouncements();
}


/// <inheritdoc />
sealed class DelayedStore :
    IDelayedStore
{
    static readonly RedisValue DueMode = "due";

    readonly RedisConnection _connection;
    readonly StreamKeys _keys;
    readonly ConcurrentDictionary<RedisKey, bool> _recorded = new();

    public DelayedStore(RedisConnection connection, StreamKeys keys)
    {
        _connection = connection;
        _keys = keys;
    }

    public async Task Schedule(RedisKey stream, NewEntry entry, bool onlyIfStreamExists, DateTimeOffset due, string token, bool cancellable)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        // A stream is recorded once, not with every message: again after a resync forgot what was recorded.
        var record = _recorded.ContainsKey(stream) ? Task.FromResult(false) : database.SetAddAsync(_keys.DelayedStreams, stream.ToString());
        var map = cancellable ? database.HashSetAsync(_keys.ScheduledTokens, token, stream.ToString()) : Task.FromResult(true);
        var packed = PackedEntry.Pack(entry.Fields, onlyIfStreamExists, cancellable);
        var hold = RedisScript.Schedule.Evaluate(database, [_keys.Delayed(stream), _keys.DelayedEntries(stream)],
            [token, DueScore(due), packed, _keys.DelayedChannel.ToString(), stream.ToString()]);

        await Task.WhenAll(record, map, hold).ConfigureAwait(false);

        // The first message of an empty set: retention may have taken the stream out of delayed-streams while the set was
        // empty, before or after the registration above; recorded again now that the message is held.
        if ((long)await hold.ConfigureAwait(false) == 1)
            await database.SetAddAsync(_keys.DelayedStreams, stream.ToString()).ConfigureAwait(false);

        _recorded.TryAdd(stream, true);
    }

    public async Task<bool> ForgetStreamIfEmpty(RedisKey stream)
    {
        var multiplexer = await _connection.GetMultiplexer().ConfigureAwait(false);
        var database = multiplexer.GetDatabase();
        var member = stream.ToString();

        if (!_connection.IsCluster(multiplexer))
        {
            return (long)await RedisScript.ForgetDelayedStream.Evaluate(database, [_keys.DelayedStreams, _keys.Delayed(stream)], [member])
                .ConfigureAwait(false) == 1;
        }

        if (await database.SortedSetLengthAsync(_keys.Delayed(stream)).ConfigureAwait(false) > 0
            || !await database.SetRemoveAsync(_keys.DelayedStreams, member).ConfigureAwait(false))
            return false;

        // A message held between the look and the removal: its holder saw an empty set and records the stream again after, or
        // it is seen here.
        if (await database.SortedSetLengthAsync(_keys.Delayed(stream)).ConfigureAwait(false) == 0)
            return true;

        await database.SetAddAsync(_keys.DelayedStreams, member).ConfigureAwait(false);
        return false;
    }

    /// <summary>The due time in Unix milliseconds, rounded up: a message is never appended before it is due.</summary>
    static long DueScore(DateTimeOffset due) => due.AddTicks(TimeSpan.TicksPerMillisecond - 1).ToUnixTimeMilliseconds();

    public async Task<(long Moved, DateTimeOffset? NextDue, RedisValue[] Tokens)> MoveDue(RedisKey stream, int limit)
    {
        var multiplexer = await _connection.GetMultiplexer().ConfigureAwait(false);
        var cluster = _connection.IsCluster(multiplexer);
        var result = (RedisResult[])(await RedisScript.Append.Evaluate(multiplexer.GetDatabase(),
            [stream, _keys.Wake(stream), _keys.ClockFor(stream, cluster), stream, stream, _keys.Delayed(stream), _keys.DelayedEntries(stream)],
            [DueMode, WakeChannels.PublishCommand(cluster), _keys.WakeChannel(stream).ToString(), limit]).ConfigureAwait(false))!;

        var next = (long)(double)result[1];
        return ((long)result[0], next < 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(next), (RedisValue[]?)result[2] ?? []);
    }

    public async Task<bool> Cancel(RedisKey stream, string token)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        var removed = RedisScript.CancelScheduled.Evaluate(database, [_keys.Delayed(stream), _keys.DelayedEntries(stream)], [token]);
        var unmapped = database.HashDeleteAsync(_keys.ScheduledTokens, token);

        await Task.WhenAll(removed, unmapped).ConfigureAwait(false);
        return (long)await removed.ConfigureAwait(false) == 1;
    }

    public async Task<(DateTimeOffset Due, NameValueEntry[] Fields)?> Find(RedisKey stream, string token)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        var score = database.SortedSetScoreAsync(_keys.Delayed(stream), token);
        var data = database.HashGetAsync(_keys.DelayedEntries(stream), token);
        if (await score.ConfigureAwait(false) is not { } due)
            return null;

        return (DateTimeOffset.FromUnixTimeMilliseconds((long)due), PackedEntry.Unpack(await data.ConfigureAwait(false)));
    }

    public async Task<RedisKey?> GetStreamOf(string token)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        var stream = await database.HashGetAsync(_keys.ScheduledTokens, token).ConfigureAwait(false);

        return stream.IsNull ? (RedisKey?)null : (RedisKey)(string)stream!;
    }

    public async Task ForgetTokens(RedisValue[] tokens)
    {
        if (tokens.Length == 0)
            return;

        var database = await _connection.GetDatabase().ConfigureAwait(false);
        await database.HashDeleteAsync(_keys.ScheduledTokens, tokens).ConfigureAwait(false);
    }

    public async Task<RedisKey[]> GetStreams()
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        return Array.ConvertAll(await database.SetMembersAsync(_keys.DelayedStreams).ConfigureAwait(false), x => (RedisKey)(string)x!);
    }

    public void ForgetRecordedStreams() => _recorded.Clear();

    public async Task<(long Count, DateTimeOffset? NextDue)> GetSummary(RedisKey stream)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        var count = database.SortedSetLengthAsync(_keys.Delayed(stream));
        var first = database.SortedSetRangeByRankWithScoresAsync(_keys.Delayed(stream), 0, 0);

        var next = await first.ConfigureAwait(false);
        return (await count.ConfigureAwait(false), next.Length == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds((long)next[0].Score));
    }

    public async Task<List<(string Token, DateTimeOffset Due, NameValueEntry[] Fields)>> GetHeld(RedisKey stream, int count)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        var tokens = await database.SortedSetRangeByRankWithScoresAsync(_keys.Delayed(stream), 0, count - 1).ConfigureAwait(false);
        var data = tokens.Length == 0 ? [] : await database.HashGetAsync(_keys.DelayedEntries(stream), Array.ConvertAll(tokens, x => x.Element))
            .ConfigureAwait(false);

        var held = new List<(string, DateTimeOffset, NameValueEntry[])>(tokens.Length);
        for (var i = 0; i < tokens.Length; i++)
            held.Add(((string)tokens[i].Element!, DateTimeOffset.FromUnixTimeMilliseconds((long)tokens[i].Score), PackedEntry.Unpack(data[i])));

        return held;
    }

    public async Task SubscribeAnnouncements(Action<RedisKey, DateTimeOffset> handler)
    {
        var multiplexer = await _connection.GetMultiplexer().ConfigureAwait(false);

        await multiplexer.GetSubscriber().SubscribeAsync(_keys.DelayedChannel, (_, value) =>
        {
            var text = (string?)value ?? "";
            var space = text.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && long.TryParse(text.AsSpan(0, space), out var due))
                handler(text[(space + 1)..], DateTimeOffset.FromUnixTimeMilliseconds(due));
        }).ConfigureAwait(false);
    }

    public async Task UnsubscribeAnnouncements()
    {
        var multiplexer = await _connection.GetMultiplexer().ConfigureAwait(false);

        await multiplexer.GetSubscriber().UnsubscribeAsync(_keys.DelayedChannel).ConfigureAwait(false);
    }
}
