namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>How long a consumer name lease lives, and the times the lease scripts work with.</summary>
/// <param name="Lease">How long a lease lives unless renewed.</param>
/// <param name="Quarantine">How long after it ran out a lease keeps its name from others, so that its entries are claimed first.</param>
/// <param name="GapLimit">A renewal this long after the previous one follows an outage or a stall: it reports no deaths.</param>
/// <param name="Remembered">How long a lease that ran out stays in the set.</param>
readonly record struct ConsumerLeaseTimes(TimeSpan Lease, TimeSpan Quarantine, TimeSpan GapLimit, TimeSpan Remembered);


/// <summary>What a consumer name lease renewal found.</summary>
/// <param name="Since">Where the next renewal's report of deaths starts: a server time in Unix ms.</param>
/// <param name="Status">1: renewed; 2: taken again (Redis had lost it, or it had been freed); 0: another instance holds the name.</param>
/// <param name="Dead">The names whose leases ran out since the previous renewal.</param>
/// <param name="Now">The server's time, Unix ms.</param>
readonly record struct ConsumerLeaseRenewal(long Since, int Status, string[] Dead, long Now);


/// <summary>
/// The gateway: every command the transport sends to Redis is sent from this class, and every key it names comes from
/// <see cref="StreamKeys" />. Every command touches one key, or keys that share a hash tag, except two that order messages
/// across streams on one Redis: the append script, which takes its entry ID from the shared clock key (on a Cluster, from
/// the stream's own, see <see cref="StreamKeys.ClockFor" />), and the read of an endpoint's new entries, which reads all
/// its streams at one instant.
/// </summary>
sealed class RedisStreamsClient
{
    /// <summary>
    /// A Lua function the append scripts share: XADD under an ID higher than any the transport gave out before on this Redis
    /// (kept in the clock key), so that entry IDs order appends across streams; then — if an idle reader armed the stream's
    /// wake flag — clear the flag and PUBLISH on the wake channel. Returns the new ID (false when <c>onlyIfExists</c> and the
    /// stream does not exist), or nil and an error.
    /// </summary>
    /// <remarks>
    /// The ID is the server's time in milliseconds, or the clock's if that is later (the clock never goes back), with a
    /// sequence that counts up within the millisecond. A stream that another writer appended to with a higher ID of its own
    /// (XADD *) refuses it; then the stream picks the ID and the clock moves past it.
    /// </remarks>
    const string AppendFunction = """
        local function append(stream, wake, clock, onlyIfExists, channel, fields, first)
          local time = redis.call('TIME')
          local ms = time[1] * 1000 + math.floor(time[2] / 1000)
          local seq = 0
          local last = redis.call('GET', clock)
          if last then
            local dash = string.find(last, '-', 1, true)
            local lastMs = tonumber(string.sub(last, 1, dash - 1))
            if lastMs >= ms then
              ms = lastMs
              seq = tonumber(string.sub(last, dash + 1)) + 1
            end
          end
          local function add(id)
            if onlyIfExists then
              return redis.pcall('XADD', stream, 'NOMKSTREAM', id, unpack(fields, first))
            end
            return redis.pcall('XADD', stream, id, unpack(fields, first))
          end
          local id = add(string.format('%d-%d', ms, seq))
          if type(id) == 'table' and id.err and string.find(id.err, 'equal or smaller', 1, true) then
            id = add('*')
          end
          if type(id) == 'table' and id.err then
            return nil, id.err
          end
          if id then
            redis.call('SET', clock, id)
            if redis.call('DEL', wake) == 1 then
              redis.call('PUBLISH', channel, 'x')
            end
          end
          return id
        end

        """;

    /// <summary>
    /// Appends a batch of entries to one stream, in order, each under an ID higher than the last (as
    /// <see cref="AppendFunction" /> does for one): the clock is read once and set once, and the wake flag is cleared, and a
    /// wake-up published, once. An entry whose duplicate key is in the stream's sent keys of this window or the one before is
    /// not appended again; an appended one's key is added to this window's, which lives two windows. KEYS: the stream, its
    /// wake flag, the clock, its sent keys of this window and of the one before. ARGV: "1" to add only to an existing stream
    /// (NOMKSTREAM), the wake channel, the duplicate detection window in ms (0: off), then per entry its duplicate key (or
    /// ''), its number of fields and its field/value pairs. Returns one element per entry: its ID, 0 when NOMKSTREAM found no stream, '=' when it was a duplicate, or the
    /// error prefixed with '!'.
    /// </summary>
    const string AppendBatchScript = """
        local stream, wake, clock, sent, sentBefore = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
        local onlyIfExists = ARGV[1] == '1'
        local window = tonumber(ARGV[3])
        local time = redis.call('TIME')
        local ms = time[1] * 1000 + math.floor(time[2] / 1000)
        local seq = 0
        local function parse(id)
          local dash = string.find(id, '-', 1, true)
          return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
        end
        local last = redis.call('GET', clock)
        if last then
          local lastMs, lastSeq = parse(last)
          if lastMs >= ms then
            ms = lastMs
            seq = lastSeq + 1
          end
        end
        local remembered = false
        local results = {}
        local lastId = nil
        local i = 4
        while i <= #ARGV do
          local key = ARGV[i]
          local first, final = i + 2, i + 1 + 2 * tonumber(ARGV[i + 1])
          local checked = window > 0 and key ~= ''
          -- Remembered first (SADD says whether it was there), forgotten again when the entry is not appended.
          if checked and (redis.call('SISMEMBER', sentBefore, key) == 1 or redis.call('SADD', sent, key) == 0) then
            results[#results + 1] = '='
          else
            local function add(id)
              if onlyIfExists then
                return redis.pcall('XADD', stream, 'NOMKSTREAM', id, unpack(ARGV, first, final))
              end
              return redis.pcall('XADD', stream, id, unpack(ARGV, first, final))
            end
            local id = add(string.format('%d-%d', ms, seq))
            local chosen = false
            if type(id) == 'table' and id.err and string.find(id.err, 'equal or smaller', 1, true) then
              id = add('*')
              chosen = true
            end
            if type(id) == 'table' and id.err then
              results[#results + 1] = '!' .. id.err
            elseif id then
              results[#results + 1] = id
              lastId = id
              if chosen then
                ms, seq = parse(id)
              end
              seq = seq + 1
              remembered = remembered or checked
            else
              results[#results + 1] = 0
            end
            if checked and (not id or type(id) == 'table') then
              redis.call('SREM', sent, key)
            end
          end
          i = final + 1
        end
        if remembered then
          redis.call('PEXPIRE', sent, 2 * window)
        end
        if lastId then
          redis.call('SET', clock, lastId)
          if redis.call('DEL', wake) == 1 then
            redis.call('PUBLISH', ARGV[2], 'x')
          end
        end
        return results
        """;

    /// <summary>
    /// Holds a message until it is due. KEYS: the stream's delayed set and its delayed entries. ARGV: the token, the due time
    /// in Unix ms, the packed entry, the announcement channel, the stream key. Announces the due time when it is now the
    /// stream's earliest. The same token again replaces the message, so a retried schedule holds it once.
    /// </summary>
    const string ScheduleScript = """
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
        redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
        local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
        if first[1] == ARGV[1] then
          redis.call('PUBLISH', ARGV[4], ARGV[2] .. ' ' .. ARGV[5])
        end
        return 1
        """;

    /// <summary>
    /// Appends the due messages of a stream, oldest due first, each removed from the delayed set and appended in the same
    /// step — so a message is never in both places, and never in neither — and returns how many were appended, the next due
    /// time (-1 when none is left) and the tokens moved that <c>scheduled-tokens</c> maps (their flags say so). KEYS: the
    /// stream, its wake flag, the clock, its delayed set, its delayed entries. ARGV: the wake channel, the most to move. A
    /// held entry is a MessagePack array (see <see cref="PackedEntry" />): its flags (NOMKSTREAM, token mapped), then
    /// field/value pairs.
    /// </summary>
    const string MoveDueScript = AppendFunction + """
        local time = redis.call('TIME')
        local now = time[1] * 1000 + math.floor(time[2] / 1000)
        local due = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
        local moved, mapped = 0, {}
        for _, token in ipairs(due) do
          local data = redis.call('HGET', KEYS[5], token)
          if data then
            local fields = cmsgpack.unpack(data)
            local id, err = append(KEYS[1], KEYS[2], KEYS[3], string.sub(fields[1], 1, 1) == '1', ARGV[1], fields, 2)
            if err then
              return redis.error_reply(err)
            end
            if id then
              moved = moved + 1
            end
            if string.sub(fields[1], 2, 2) == '1' then
              mapped[#mapped + 1] = token
            end
          end
          redis.call('ZREM', KEYS[4], token)
          redis.call('HDEL', KEYS[5], token)
        end
        local next = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
        return { moved, next[2] or '-1', mapped }
        """;

    /// <summary>Removes a held message before it is due. KEYS: the delayed set, the delayed entries. ARGV: the token. Returns 1 when it was held.</summary>
    const string CancelScript = """
        local removed = redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('HDEL', KEYS[2], ARGV[1])
        return removed
        """;

    /// <summary>
    /// For each ID still pending for this consumer: XCLAIM it to itself with JUSTID (the delivery count stays) and the given
    /// idle time — 0 keeps an entry in work from being claimed by others, a large value hands it to them at once. Returns the
    /// IDs that are no longer this consumer's. ARGV: group, consumer, idle ms, IDs.
    /// </summary>
    const string SetIdleTimeScript = """
        local lost = {}
        for i = 4, #ARGV do
          local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
          if #pending > 0 then
            redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3], 'JUSTID')
          else
            lost[#lost + 1] = ARGV[i]
          end
        end
        return lost
        """;

    /// <summary>
    /// Deletes consumers of a group that have no pending entries and have been idle at least ARGV[2] ms: the one named
    /// ARGV[3], or, when it is empty, all but the one named ARGV[4]. Checked and deleted in one step, so an entry can never be
    /// lost with its consumer (XGROUP DELCONSUMER drops the consumer's pending entries). Returns the deleted names.
    /// </summary>
    const string RemoveConsumersScript = """
        local removed = {}
        for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
          local name, pending, idle
          for i = 1, #consumer, 2 do
            if consumer[i] == 'name' then name = consumer[i + 1]
            elseif consumer[i] == 'pending' then pending = consumer[i + 1]
            elseif consumer[i] == 'idle' then idle = consumer[i + 1] end
          end
          local selected
          if ARGV[3] ~= '' then selected = name == ARGV[3] else selected = name ~= ARGV[4] end
          if selected and pending == 0 and idle >= tonumber(ARGV[2]) then
            redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
            removed[#removed + 1] = name
          end
        end
        return removed
        """;

    /// <summary>
    /// Trims a stream by a retention policy without removing an entry any consumer group still needs. KEYS[1]: the stream.
    /// ARGV: the most entries to keep (-1: no limit), the oldest age to keep in ms (-1: no limit), and how many entries at
    /// most to count when that decides between the two ways to trim. Returns the entries removed, the group that kept the
    /// policy from removing more (or ''), and why nothing was trimmed by length ('' or 'uncounted').
    /// </summary>
    /// <remarks>
    /// What a group still needs starts at its oldest pending entry, or else the first entry after its last delivered one;
    /// the lowest of these over all groups is the safe point, and every entry from it on stays. By age, the stream is trimmed
    /// (XTRIM MINID) to the lower of the age limit and the safe point. By length, XTRIM MAXLEN is safe when the entries from the
    /// safe point on are no more than the limit — counted by the lagging group's lag, or by reading at most the limit of
    /// them — and otherwise the stream is trimmed to the safe point.
    /// </remarks>
    const string TrimScript = """
        local key = KEYS[1]
        local maxEntries = tonumber(ARGV[1])
        local maxAge = tonumber(ARGV[2])
        local probe = tonumber(ARGV[3])
        local function parse(id)
          local dash = string.find(id, '-', 1, true)
          return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
        end
        local function less(a, b)
          local am, as = parse(a)
          local bm, bs = parse(b)
          return am < bm or (am == bm and as < bs)
        end
        local safe, holder, holderLag = nil, '', nil
        for _, group in ipairs(redis.call('XINFO', 'GROUPS', key)) do
          local name, last, pending, lag
          for i = 1, #group, 2 do
            local field = group[i]
            if field == 'name' then name = group[i + 1]
            elseif field == 'last-delivered-id' then last = group[i + 1]
            elseif field == 'pending' then pending = group[i + 1]
            elseif field == 'lag' then lag = group[i + 1] end
          end
          local ms, seq = parse(last)
          local need = string.format('%d-%d', ms, seq + 1)
          if pending > 0 then
            local oldest = redis.call('XPENDING', key, name, '-', '+', 1)
            if #oldest > 0 and less(oldest[1][1], need) then
              need = oldest[1][1]
            end
          end
          if safe == nil or less(need, safe) then
            safe, holder, holderLag = need, name, lag
          end
        end
        local before = redis.call('XLEN', key)
        local kept, note = '', ''
        if maxAge >= 0 then
          local time = redis.call('TIME')
          local target = string.format('%d-0', math.max(0, time[1] * 1000 + math.floor(time[2] / 1000) - maxAge))
          if safe ~= nil and less(safe, target) then
            target, kept = safe, holder
          end
          redis.call('XTRIM', key, 'MINID', target)
        end
        if maxEntries >= 0 and redis.call('XLEN', key) > maxEntries then
          if safe == nil then
            redis.call('XTRIM', key, 'MAXLEN', maxEntries)
          elseif type(holderLag) == 'number' and holderLag > maxEntries then
            redis.call('XTRIM', key, 'MINID', safe)
            kept = holder
          else
            local limit = math.min(maxEntries + 1, probe)
            local needed = #redis.call('XRANGE', key, safe, '+', 'COUNT', limit)
            if needed < limit then
              redis.call('XTRIM', key, 'MAXLEN', maxEntries)
            elseif limit == maxEntries + 1 then
              redis.call('XTRIM', key, 'MINID', safe)
              kept = holder
            else
              kept, note = holder, 'uncounted'
            end
          end
        end
        return { before - redis.call('XLEN', key), kept, note }
        """;

    const string RenewLeaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        return 0
        """;

    const string ReleaseLeaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """;

    /// <summary>
    /// Lua functions the consumer name lease scripts share. KEYS: the leases (a sorted set of name → expiry in Unix ms, by the
    /// server's clock) and the holders (a hash of name → holder); they share a hash tag.
    /// </summary>
    const string ConsumerLeaseFunctions = """
        local function clock()
          local time = redis.call('TIME')
          return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        end
        local function free(leases, holders, name, holder, now, quarantine)
          local current = redis.call('HGET', holders, name)
          if not current or current == holder then
            return true
          end
          local expiry = tonumber(redis.call('ZSCORE', leases, name))
          return not expiry or expiry + quarantine <= now
        end
        local function take(leases, holders, name, holder, now, ttl)
          redis.call('ZADD', leases, string.format('%d', now + ttl), name)
          redis.call('HSET', holders, name, holder)
        end

        """;

    /// <summary>
    /// Takes a consumer name unless another holder has it, or had it until less than the quarantine ago. KEYS: see
    /// <see cref="ConsumerLeaseFunctions" />. ARGV: name, holder, lease ms, quarantine ms. Returns 1 when taken.
    /// </summary>
    const string TakeConsumerLeaseScript = ConsumerLeaseFunctions + """
        local now = clock()
        if not free(KEYS[1], KEYS[2], ARGV[1], ARGV[2], now, tonumber(ARGV[4])) then
          return 0
        end
        take(KEYS[1], KEYS[2], ARGV[1], ARGV[2], now, tonumber(ARGV[3]))
        return 1
        """;

    /// <summary>
    /// Renews this holder's lease on a consumer name, or takes the name again if it is free, and reports the names whose
    /// leases ran out after <c>since</c>. KEYS: see <see cref="ConsumerLeaseFunctions" />. ARGV: name, holder, lease ms,
    /// quarantine ms, gap limit ms, since (Unix ms; negative: that many ms before now, for a first renewal), and how long a
    /// lease that ran out is remembered (ms; 0: leave the old ones for a later renewal to forget). Returns where the next
    /// report starts, 1 (renewed), 2 (taken again: Redis had lost it, or it was free) or 0 (another holder has it), the names
    /// whose leases ran out, and the server's time.
    /// </summary>
    /// <remarks>
    /// It runs every second in every instance, so the usual case costs four commands: TIME, HGET, ZADD and ZRANGEBYSCORE.
    /// A renewal more than the gap limit after the previous one means this instance could not reach Redis, or stood still,
    /// for longer than a live lease can go unrenewed; so may the others, if Redis itself was down. It reports nothing then,
    /// and nothing that runs out within a lease time after: the others get a full lease time to renew before anyone takes
    /// them for dead.
    /// </remarks>
    const string RenewConsumerLeaseScript = ConsumerLeaseFunctions + """
        local now = clock()
        local name, holder = ARGV[1], ARGV[2]
        local ttl = tonumber(ARGV[3])
        local status = 1
        if redis.call('HGET', KEYS[2], name) ~= holder then
          if free(KEYS[1], KEYS[2], name, holder, now, tonumber(ARGV[4])) then
            status = 2
            redis.call('HSET', KEYS[2], name, holder)
          else
            status = 0
          end
        end
        if status ~= 0 then
          redis.call('ZADD', KEYS[1], string.format('%d', now + ttl), name)
        end
        local since = tonumber(ARGV[6])
        local dead = {}
        if since < 0 then
          since = now + since
        elseif now - since > tonumber(ARGV[5]) then
          since = now + ttl
        end
        if since < now then
          dead = redis.call('ZRANGEBYSCORE', KEYS[1], string.format('(%d', since), string.format('%d', now))
          since = now
        end
        local remembered = tonumber(ARGV[7])
        if remembered > 0 then
          for _, old in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('(%d', now - remembered))) do
            redis.call('ZREM', KEYS[1], old)
            redis.call('HDEL', KEYS[2], old)
          end
        end
        return { since, status, dead, now }
        """;

    /// <summary>
    /// Gives a consumer name up if this holder has it, so that nobody takes it for dead and a restart gets it at once. KEYS:
    /// see <see cref="ConsumerLeaseFunctions" />. ARGV: name, holder.
    /// </summary>
    const string ReleaseConsumerLeaseScript = """
        if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then
          redis.call('ZREM', KEYS[1], ARGV[1])
          redis.call('HDEL', KEYS[2], ARGV[1])
          return 1
        end
        return 0
        """;

    /// <summary>
    /// <see cref="AppendBatchScript" /> for a Redis Cluster: the wake-up goes out with SPUBLISH on the stream's sharded channel,
    /// which hashes to the stream's slot (see <see cref="StreamKeys.WakeChannel(RedisKey, bool)" />).
    /// </summary>
    static readonly string AppendBatchScriptSharded = Sharded(AppendBatchScript);

    /// <summary><see cref="MoveDueScript" /> for a Redis Cluster, publishing its wake-up as <see cref="AppendBatchScriptSharded" /> does.</summary>
    static readonly string MoveDueScriptSharded = Sharded(MoveDueScript);

    static string Sharded(string script) => script.Replace("redis.call('PUBLISH'", "redis.call('SPUBLISH'", StringComparison.Ordinal);

    /// <summary>How many streams' appenders are kept before the set is started afresh.</summary>
    const int MaxAppenders = 10_000;

    /// <summary>The leading arguments of the append script, before the fields: the NOMKSTREAM flag and the wake channel.</summary>
    public const int AppendReservedArguments = 2;

    static readonly RedisValue WakeEntry = "x";
    static readonly RedisValue WakeTopology = "t";
    static readonly RedisValue WakeClaim = "c";

    readonly System.Collections.Concurrent.ConcurrentDictionary<RedisKey, bool> _delayedStreams = new();
    readonly System.Collections.Concurrent.ConcurrentDictionary<RedisKey, StreamAppender> _appenders = new();
    readonly System.Collections.Concurrent.ConcurrentDictionary<RedisKey, StreamAppender> _existingStreamAppenders = new();

    public RedisStreamsClient(RedisConnection connection, StreamKeys keys)
    {
        Connection = connection;
        Keys = keys;
    }

    public RedisConnection Connection { get; }
    public StreamKeys Keys { get; }

    /// <summary>How many replicas must have a batch of appends before it completes (WAIT); 0 for none.</summary>
    public int WaitForReplicas { get; init; }

    /// <summary>How long to wait for them.</summary>
    public TimeSpan WaitForReplicasTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a stream remembers the duplicate keys of appended entries; zero for not at all.</summary>
    public TimeSpan DuplicateDetectionWindow { get; init; }

    /// <summary>The reply of the append script for an entry that was not appended again: the stream had it already.</summary>
    public const string Duplicate = "=";

    /// <summary>
    /// Appends an entry (XADD) under an ID that orders it after every earlier append on this Redis, and wakes idle readers of
    /// the stream. Appends to one stream that are made while an earlier one is on its way go together in one script call
    /// (see <see cref="StreamAppender" />), in the order they were made.
    /// </summary>
    /// <param name="stream">The stream.</param>
    /// <param name="entry">The fields.</param>
    /// <param name="onlyIfStreamExists">When true (XADD NOMKSTREAM), nothing is added to a stream that does not exist.</param>
    /// <returns>The new entry's ID, or null when <paramref name="onlyIfStreamExists" /> and the stream did not exist.</returns>
    /// <seealso href="https://redis.io/commands/xadd" />
    public Task<string?> Append(RedisKey stream, NewEntry entry, bool onlyIfStreamExists)
    {
        var appenders = onlyIfStreamExists ? _existingStreamAppenders : _appenders;
        if (!appenders.TryGetValue(stream, out var appender))
        {
            // Replies go to the temporary streams of buses that come and go: the set is forgotten now and then rather than
            // kept forever. An appender in use carries on with what it has; only later appends take a new one.
            if (appenders.Count >= MaxAppenders)
                appenders.Clear();

            appender = appenders.GetOrAdd(stream, key => new StreamAppender(this, key, onlyIfStreamExists));
        }

        return appender.Append(entry);
    }

    /// <summary>
    /// Appends <paramref name="entries" /> to <paramref name="stream" /> in one script call, in order (see
    /// <see cref="AppendBatchScript" />).
    /// </summary>
    /// <returns>Per entry: its ID, null when NOMKSTREAM found no stream, or the exception that refused it.</returns>
    internal async Task<object?[]> AppendBatch(RedisKey stream, IReadOnlyList<NewEntry> entries, bool onlyIfStreamExists)
    {
        const int leading = 3;
        var length = leading;
        foreach (var entry in entries)
            length += 2 + entry.Count * 2;

        var window = (long)DuplicateDetectionWindow.TotalMilliseconds;
        var arguments = new RedisValue[length];
        arguments[0] = onlyIfStreamExists ? "1" : "0";
        arguments[1] = Keys.WakeChannel(stream).ToString();
        arguments[2] = window;
        var index = leading;
        foreach (var entry in entries)
        {
            arguments[index++] = window > 0 && !entry.DuplicateKey.IsNull ? entry.DuplicateKey : RedisValue.EmptyString;
            arguments[index++] = entry.Count;
            index = entry.CopyFieldsTo(arguments, index);
        }

        var multiplexer = await Connection.GetMultiplexer().ConfigureAwait(false);
        var database = multiplexer.GetDatabase();
        var cluster = Connection.IsCluster(multiplexer);
        var clock = Keys.ClockFor(stream, cluster);
        // The sent keys of a stream are kept per window, named by its number since the epoch: an entry remembered in window n
        // is found by every append until the end of window n + 1, so for at least one window, and its set expires after that.
        // Without detection the script reads neither; the stream stands in for them, with no names to build.
        var generation = window > 0 ? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / window : 0;
        var sent = window > 0 ? Keys.Sent(stream, generation) : stream;
        var sentBefore = window > 0 ? Keys.Sent(stream, generation - 1) : stream;
        var result = await database.ScriptEvaluateAsync(cluster ? AppendBatchScriptSharded : AppendBatchScript,
            [stream, Keys.Wake(stream), clock, sent, sentBefore], arguments).ConfigureAwait(false);

        if (WaitForReplicas > 0)
        {
            // WAIT covers every write this connection made before it, the batch among them.
            // On the primary, so on the connection that carried the append: on a cluster, the primary that serves the stream's
            // slot (a keyless command would go to any node).
            object[] wait = [WaitForReplicas, (long)WaitForReplicasTimeout.TotalMilliseconds];
            var acknowledged = cluster
                ? (long)await multiplexer.GetServer(stream, null, CommandFlags.DemandMaster).ExecuteAsync("WAIT", wait).ConfigureAwait(false)
                : (long)await database.ExecuteAsync("WAIT", wait, CommandFlags.DemandMaster).ConfigureAwait(false);
            if (acknowledged < WaitForReplicas)
            {
                throw new RedisException($"Only {acknowledged} of the {WaitForReplicas} replicas asked for (WaitForReplicas) acknowledged the append "
                    + $"to {stream} within {WaitForReplicasTimeout}; the entries are on the primary, but may not survive a failover.");
            }
        }

        var items = (RedisResult[])result!;
        var outcomes = new object?[entries.Count];
        for (var i = 0; i < outcomes.Length; i++)
        {
            var item = i < items.Length ? items[i] : null;
            if (item == null)
                outcomes[i] = new RedisException($"Appending to {stream} returned no result for entry {i + 1} of {entries.Count}.");
            else if (item.Resp2Type == ResultType.Integer)
                outcomes[i] = null;
            else
            {
                var text = (string?)item ?? "";
                outcomes[i] = text.StartsWith('!') ? new RedisServerException(RedisErrorKind.Unknown, CommandFlags.None, text[1..]) : text;
            }
        }

        return outcomes;
    }

    /// <summary>
    /// Holds an entry in Redis until <paramref name="due" />, when a delayed message pump appends it to
    /// <paramref name="stream" /> (see <see cref="MoveDue" />). The stream is recorded among those with delayed messages, and
    /// the token of a <paramref name="cancellable" /> message mapped to it, first, in the same pipeline, so that neither a
    /// starting pump nor a cancel by token can miss it. Scheduling the same token again replaces the message.
    /// </summary>
    public async Task Schedule(RedisKey stream, NewEntry entry, bool onlyIfStreamExists, DateTimeOffset due, string token, bool cancellable)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        // A stream is recorded once, not with every message: again after a resync forgot what was recorded.
        var register = _delayedStreams.ContainsKey(stream) ? Task.FromResult(false) : database.SetAddAsync(Keys.DelayedStreams, stream.ToString());
        var map = cancellable ? database.HashSetAsync(Keys.ScheduledTokens, token, stream.ToString()) : Task.FromResult(true);
        var packed = PackedEntry.Pack(entry.GetArguments(), AppendReservedArguments, onlyIfStreamExists, cancellable);
        var hold = database.ScriptEvaluateAsync(ScheduleScript, [Keys.Delayed(stream), Keys.DelayedEntries(stream)],
            [token, DueScore(due), packed, Keys.DelayedChannel.ToString(), stream.ToString()]);

        await Task.WhenAll(register, map, hold).ConfigureAwait(false);
        _delayedStreams.TryAdd(stream, true);
    }

    /// <summary>
    /// Forgets which streams <see cref="Schedule" /> recorded in <c>delayed-streams</c>, so that the next message of each records
    /// its stream again: whatever happened to the set (a Redis that restarted without its data), it is whole again after.
    /// </summary>
    public void ForgetRecordedDelayedStreams() => _delayedStreams.Clear();

    /// <summary>The due time in Unix milliseconds, rounded up: a message is never appended before it is due.</summary>
    static long DueScore(DateTimeOffset due) => due.AddTicks(TimeSpan.TicksPerMillisecond - 1).ToUnixTimeMilliseconds();

    /// <summary>
    /// Appends the messages of <paramref name="stream" /> that are due, at most <paramref name="limit" />, each in the same step
    /// as it leaves the delayed set.
    /// </summary>
    /// <returns>How many were appended, the next due time (null when none is left), and the tokens moved.</returns>
    public async Task<(long Moved, DateTimeOffset? NextDue, RedisValue[] Tokens)> MoveDue(RedisKey stream, int limit)
    {
        var multiplexer = await Connection.GetMultiplexer().ConfigureAwait(false);
        var database = multiplexer.GetDatabase();
        var cluster = Connection.IsCluster(multiplexer);
        var clock = Keys.ClockFor(stream, cluster);
        var result = (RedisResult[])(await database.ScriptEvaluateAsync(cluster ? MoveDueScriptSharded : MoveDueScript,
            [stream, Keys.Wake(stream), clock, Keys.Delayed(stream), Keys.DelayedEntries(stream)],
            [Keys.WakeChannel(stream).ToString(), limit]).ConfigureAwait(false))!;

        var next = (long)(double)result[1];
        return ((long)result[0], next < 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(next), (RedisValue[]?)result[2] ?? []);
    }

    /// <summary>Removes a held message before it is due; false when it was not held (moved already, or never scheduled).</summary>
    public async Task<bool> CancelScheduled(RedisKey stream, string token)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);
        var removed = database.ScriptEvaluateAsync(CancelScript, [Keys.Delayed(stream), Keys.DelayedEntries(stream)], [token]);
        var unmapped = database.HashDeleteAsync(Keys.ScheduledTokens, token);

        await Task.WhenAll(removed, unmapped).ConfigureAwait(false);
        return (long)await removed.ConfigureAwait(false) == 1;
    }

    /// <summary>The stream a scheduling token's message waits for, or null.</summary>
    public async Task<RedisKey?> GetScheduledStream(string token)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);
        var stream = await database.HashGetAsync(Keys.ScheduledTokens, token).ConfigureAwait(false);

        return stream.IsNull ? (RedisKey?)null : (RedisKey)(string)stream!;
    }

    /// <summary>Forgets the tokens of messages that were appended.</summary>
    public async Task ForgetScheduledTokens(RedisValue[] tokens)
    {
        if (tokens.Length == 0)
            return;

        var database = await Connection.GetDatabase().ConfigureAwait(false);
        await database.HashDeleteAsync(Keys.ScheduledTokens, tokens).ConfigureAwait(false);
    }

    /// <summary>The streams that have, or had, delayed messages.</summary>
    public async Task<RedisKey[]> GetDelayedStreams()
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        return Array.ConvertAll(await database.SetMembersAsync(Keys.DelayedStreams).ConfigureAwait(false), x => (RedisKey)(string)x!);
    }

    /// <summary>How many messages wait for <paramref name="stream" />, and when the first is due.</summary>
    public async Task<(long Count, DateTimeOffset? NextDue)> GetScheduledSummary(RedisKey stream)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        var count = database.SortedSetLengthAsync(Keys.Delayed(stream));
        var first = database.SortedSetRangeByRankWithScoresAsync(Keys.Delayed(stream), 0, 0);

        var next = await first.ConfigureAwait(false);
        return (await count.ConfigureAwait(false), next.Length == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds((long)next[0].Score));
    }

    /// <summary>The first <paramref name="count" /> messages waiting for <paramref name="stream" />, by due time, with their fields.</summary>
    public async Task<List<(string Token, DateTimeOffset Due, NameValueEntry[] Fields)>> GetScheduled(RedisKey stream, int count)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        var tokens = await database.SortedSetRangeByRankWithScoresAsync(Keys.Delayed(stream), 0, count - 1).ConfigureAwait(false);
        var data = tokens.Length == 0 ? [] : await database.HashGetAsync(Keys.DelayedEntries(stream), Array.ConvertAll(tokens, x => x.Element))
            .ConfigureAwait(false);

        var scheduled = new List<(string, DateTimeOffset, NameValueEntry[])>(tokens.Length);
        for (var i = 0; i < tokens.Length; i++)
            scheduled.Add(((string)tokens[i].Element!, DateTimeOffset.FromUnixTimeMilliseconds((long)tokens[i].Score), PackedEntry.Unpack(data[i])));

        return scheduled;
    }

    /// <summary>Subscribes to the announcements of new earliest due times: the handler gets the stream and the due time.</summary>
    public async Task SubscribeDelayed(Action<RedisKey, DateTimeOffset> handler)
    {
        var multiplexer = await Connection.GetMultiplexer().ConfigureAwait(false);

        await multiplexer.GetSubscriber().SubscribeAsync(Keys.DelayedChannel, (_, value) =>
        {
            var text = (string?)value ?? "";
            var space = text.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && long.TryParse(text.AsSpan(0, space), out var due))
                handler(text[(space + 1)..], DateTimeOffset.FromUnixTimeMilliseconds(due));
        }).ConfigureAwait(false);
    }

    /// <summary>Ends the subscription to the announcements of due times.</summary>
    public async Task UnsubscribeDelayed()
    {
        var multiplexer = await Connection.GetMultiplexer().ConfigureAwait(false);

        await multiplexer.GetSubscriber().UnsubscribeAsync(Keys.DelayedChannel).ConfigureAwait(false);
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
    /// Reads new entries of a consumer group from several streams at one instant (never blocking): at most
    /// <paramref name="counts" />[i] from stream i, none where it is 0. With <paramref name="armWake" />, it first sets the
    /// streams' wake flags for that long, so that any append to one of them after the read publishes a wake-up.
    /// </summary>
    /// <remarks>
    /// When every stream gets the same count, one XREADGROUP reads them all at one instant. Otherwise each stream has its own
    /// XREADGROUP, sent in stream order on the same connection, so Redis runs them in that order: an entry appended to a
    /// stream after its read gets a higher ID than every entry returned by that read and the reads before it, which is what
    /// the caller needs to know where each stream stands (<see cref="ReadRound.Atomic" />). The flags are sent before the
    /// reads on the same connection, so an append is either before the read, and read, or after a flag was set, and announced.
    /// <para>
    /// On a Redis Cluster, one command can read only streams in one hash slot: the streams are read by one XREADGROUP per slot,
    /// pipelined, each on the connection to the node that serves its slot, after the flags of its streams. Each stream takes
    /// its IDs from its own clock there, so IDs of different streams do not order appends (<see cref="ReadRound.Ordered" />).
    /// </para>
    /// </remarks>
    /// <returns>The entries read from each stream, in ID order; empty where there were none.</returns>
    /// <seealso href="https://redis.io/commands/xreadgroup" />
    public async Task<ReadRound> ReadNew(IReadOnlyList<RedisKey> streams, IReadOnlyList<int> counts, string group, string consumer,
        TimeSpan? armWake)
    {
        var multiplexer = await Connection.GetMultiplexer().ConfigureAwait(false);
        var database = multiplexer.GetDatabase();
        var cluster = Connection.IsCluster(multiplexer);
        var results = new StreamEntry[streams.Count][];

        // The flags are set before the read, on the same connection, so no append falls between: one appended before is read,
        // one appended after clears a flag and publishes a wake-up.
        Task[]? arming = null;
        if (armWake is { } lifetime)
        {
            arming = new Task[streams.Count];
            for (var i = 0; i < streams.Count; i++)
                arming[i] = database.StringSetAsync(Keys.Wake(streams[i]), WakeEntry, lifetime);
        }

        if (cluster && IsUniform(counts))
            return await ReadNewBySlot(multiplexer, database, streams, counts[0], group, consumer, arming).ConfigureAwait(false);

        if (IsUniform(counts))
        {
            var positions = new StreamPosition[streams.Count];
            for (var i = 0; i < streams.Count; i++)
                positions[i] = new StreamPosition(streams[i], StreamPosition.NewMessages);

            var read = await database.StreamReadGroupAsync(positions, group, consumer, counts[0]).ConfigureAwait(false);
            if (arming != null)
                await Task.WhenAll(arming).ConfigureAwait(false);

            for (var i = 0; i < streams.Count; i++)
                results[i] = Array.Find(read, x => x.Key == streams[i]).Entries ?? [];

            return new ReadRound(results, true);
        }

        // Different counts: one XREADGROUP per stream, pipelined in stream order on one connection, so they run in that order.
        var tasks = new List<Task>(streams.Count * 2);
        if (arming != null)
            tasks.AddRange(arming);

        var reads = new Task<StreamEntry[]>?[streams.Count];
        for (var i = 0; i < streams.Count; i++)
        {
            if (counts[i] <= 0)
                continue;

            reads[i] = database.StreamReadGroupAsync(streams[i], group, consumer, StreamPosition.NewMessages, counts[i]);
            tasks.Add(reads[i]!);
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);

        for (var i = 0; i < streams.Count; i++)
            results[i] = reads[i] is { } task ? await task.ConfigureAwait(false) : [];

        return new ReadRound(results, false, !cluster);
    }

    /// <summary>
    /// Reads new entries of a group from streams on a Redis Cluster: one XREADGROUP for the streams of each hash slot, all
    /// pipelined (see <see cref="ReadNew" />).
    /// </summary>
    static async Task<ReadRound> ReadNewBySlot(IConnectionMultiplexer multiplexer, IDatabase database, IReadOnlyList<RedisKey> streams, int count,
        string group, string consumer, Task[]? arming)
    {
        var slots = new Dictionary<int, List<int>>();
        for (var i = 0; i < streams.Count; i++)
        {
            var slot = multiplexer.HashSlot(streams[i]);
            if (!slots.TryGetValue(slot, out var members))
                slots.Add(slot, members = new List<int>(1));
            members.Add(i);
        }

        var reads = new List<(List<int> Members, Task<RedisStream[]> Read)>(slots.Count);
        foreach (var members in slots.Values)
        {
            var positions = members.ConvertAll(i => new StreamPosition(streams[i], StreamPosition.NewMessages)).ToArray();
            reads.Add((members, database.StreamReadGroupAsync(positions, group, consumer, count)));
        }

        if (arming != null)
            await Task.WhenAll(arming).ConfigureAwait(false);

        var results = new StreamEntry[streams.Count][];
        foreach (var (members, task) in reads)
        {
            var read = await task.ConfigureAwait(false);
            foreach (var i in members)
                results[i] = Array.Find(read, x => x.Key == streams[i]).Entries ?? [];
        }

        return new ReadRound(results, slots.Count == 1, false);
    }

    static bool IsUniform(IReadOnlyList<int> counts)
    {
        for (var i = 1; i < counts.Count; i++)
        {
            if (counts[i] != counts[0])
                return false;
        }

        return counts.Count > 0 && counts[0] > 0;
    }

    /// <summary>
    /// Reads entries of a consumer group's pending list that were delivered to <paramref name="consumer" />, after
    /// <paramref name="after" /> (XREADGROUP with an ID). An entry deleted from the stream since comes back without fields.
    /// </summary>
    /// <seealso href="https://redis.io/commands/xreadgroup" />
    public async Task<StreamEntry[]> ReadPending(RedisKey stream, string group, string consumer, RedisValue after, int count)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamReadGroupAsync(stream, group, consumer, after, count).ConfigureAwait(false);
    }

    /// <summary>Acknowledges entries (XACK), any number in one command.</summary>
    /// <seealso href="https://redis.io/commands/xack" />
    public async Task<long> Acknowledge(RedisKey stream, string group, RedisValue[] ids)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamAcknowledgeAsync(stream, group, ids).ConfigureAwait(false);
    }

    /// <summary>
    /// Subscribes to the wake channel of a stream; the handler learns what happened: new entries, a new derived type, or
    /// entries released by a stopping instance for others to claim.
    /// </summary>
    /// <returns>The subscription, to pass to <see cref="UnsubscribeWake" />.</returns>
    public async Task<Action<RedisChannel, RedisValue>> SubscribeWake(RedisKey stream, Action<RedisKey, WakeReason> handler)
    {
        var multiplexer = await Connection.GetMultiplexer().ConfigureAwait(false);

        Action<RedisChannel, RedisValue> subscription = (_, value) =>
            handler(stream, value == WakeTopology ? WakeReason.Topology : value == WakeClaim ? WakeReason.Claim : WakeReason.Entries);

        await multiplexer.GetSubscriber().SubscribeAsync(WakeChannel(multiplexer, stream), subscription).ConfigureAwait(false);

        return subscription;
    }

    /// <summary>
    /// Where the wake channels of <paramref name="streams" /> are subscribed right now, as text that changes when a
    /// subscription moves to another server; null when one has no live subscription, or, on a Redis Cluster, is not on the
    /// node that the client takes to serve its stream's slot. After the server that held a subscription failed, or the slot
    /// moved, the client subscribes again by itself once it can (on a cluster, once it knows the slot's new primary, which
    /// can take seconds after a failover); until then, and while it moves, a wake-up can go unheard.
    /// </summary>
    public string? GetWakeSubscriptions(IEnumerable<RedisKey> streams)
    {
        var connecting = Connection.GetMultiplexer();
        if (!connecting.IsCompletedSuccessfully)
            return null;

        var multiplexer = connecting.Result;
        var cluster = Connection.IsCluster(multiplexer);
        var subscriber = multiplexer.GetSubscriber();
        var text = new System.Text.StringBuilder();
        foreach (var stream in streams)
        {
            var endpoint = subscriber.SubscribedEndpoint(WakeChannel(multiplexer, stream));
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

    /// <summary>
    /// On a Redis Cluster, whether the wake flag of one of <paramref name="streams" /> is gone: an append cleared it, so its
    /// wake-up went out, and if the reader is still waiting, it did not arrive. That happens while a slot moves: an append
    /// redirected with ASK to the importing node publishes there, while the subscription is still on the node that owns the
    /// slot. One EXISTS per stream, pipelined; always false on one Redis, where no command is sent.
    /// </summary>
    public async Task<bool> AnyWakeFlagCleared(IEnumerable<RedisKey> streams)
    {
        var multiplexer = await Connection.GetMultiplexer().ConfigureAwait(false);
        if (!Connection.IsCluster(multiplexer))
            return false;

        var database = multiplexer.GetDatabase();
        var checks = new List<Task<bool>>();
        foreach (var stream in streams)
            checks.Add(database.KeyExistsAsync(Keys.Wake(stream)));

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

    /// <summary>Removes one subscription; other endpoints of the process that read the same stream keep theirs.</summary>
    public async Task UnsubscribeWake(RedisKey stream, Action<RedisChannel, RedisValue> subscription)
    {
        var multiplexer = await Connection.GetMultiplexer().ConfigureAwait(false);

        await multiplexer.GetSubscriber().UnsubscribeAsync(WakeChannel(multiplexer, stream), subscription).ConfigureAwait(false);
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
        var register = database.HashSetAsync(Keys.Subscribers(eventStream), group, position);
        var sources = database.SetMembersAsync(Keys.Sources(eventStream));

        await register.ConfigureAwait(false);

        return Array.ConvertAll(await sources.ConfigureAwait(false), x => (RedisKey)(string?)x);
    }

    /// <summary>Returns the streams of the types derived from the type of <paramref name="eventStream" />.</summary>
    public async Task<RedisKey[]> GetSources(RedisKey eventStream)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        return Array.ConvertAll(await database.SetMembersAsync(Keys.Sources(eventStream)).ConfigureAwait(false), x => (RedisKey)(string?)x);
    }

    /// <summary>Removes a consumer group's subscription to the type of <paramref name="eventStream" />.</summary>
    public async Task UnregisterSubscriber(RedisKey eventStream, string group)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        await database.HashDeleteAsync(Keys.Subscribers(eventStream), group).ConfigureAwait(false);
    }

    /// <summary>
    /// Records that the messages of <paramref name="sourceStream" /> are also of the type of <paramref name="eventStream" />
    /// and returns the groups that consume that type with their start positions. The caller creates those groups on
    /// <paramref name="sourceStream" /> before it appends to it, so a subscriber that registered first misses nothing; one that
    /// registers later finds the source in the set.
    /// </summary>
    public async Task<HashEntry[]> AddSource(RedisKey eventStream, RedisKey sourceStream)
    {
        var multiplexer = await Connection.GetMultiplexer().ConfigureAwait(false);
        var database = multiplexer.GetDatabase();

        var add = database.SetAddAsync(Keys.Sources(eventStream), sourceStream.ToString());
        var subscribers = database.HashGetAllAsync(Keys.Subscribers(eventStream));

        var added = await add.ConfigureAwait(false);
        var result = await subscribers.ConfigureAwait(false);

        if (added)
        {
            await database.PublishAsync(WakeChannel(multiplexer, eventStream), WakeTopology).ConfigureAwait(false);
        }

        return result;
    }

    /// <summary>
    /// Claims entries of a group that have been idle at least <paramref name="minIdle" /> (XAUTOCLAIM), from
    /// <paramref name="cursor" /> on. The result carries the cursor to continue from ("0-0" after a full pass) and the IDs of
    /// pending entries whose stream entry no longer exists, which Redis has removed from the pending list.
    /// </summary>
    /// <seealso href="https://redis.io/commands/xautoclaim" />
    public async Task<StreamAutoClaimResult> ClaimIdle(RedisKey stream, string group, string consumer, TimeSpan minIdle, RedisValue cursor,
        int count)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamAutoClaimAsync(stream, group, consumer, (long)minIdle.TotalMilliseconds, cursor, count).ConfigureAwait(false);
    }

    /// <summary>
    /// The delivery counts of this consumer's pending entries between <paramref name="first" /> and <paramref name="last" />
    /// (XPENDING with a range and a consumer).
    /// </summary>
    /// <seealso href="https://redis.io/commands/xpending" />
    public async Task<StreamPendingMessageInfo[]> GetPending(RedisKey stream, string group, string consumer, RedisValue first, RedisValue last,
        int count)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamPendingMessagesAsync(stream, group, count, consumer, first, last).ConfigureAwait(false);
    }

    /// <summary>
    /// Sets the idle time of those of <paramref name="ids" /> still pending for <paramref name="consumer" />: 0 keeps them from
    /// being claimed by others, a long time hands them over at the next claim. Returns the IDs no longer this consumer's.
    /// </summary>
    public async Task<RedisValue[]> SetIdleTime(RedisKey stream, string group, string consumer, IReadOnlyList<RedisValue> ids, TimeSpan idle)
    {
        var arguments = new RedisValue[3 + ids.Count];
        arguments[0] = group;
        arguments[1] = consumer;
        arguments[2] = (long)idle.TotalMilliseconds;
        for (var i = 0; i < ids.Count; i++)
            arguments[3 + i] = ids[i];

        var database = await Connection.GetDatabase().ConfigureAwait(false);
        var result = await database.ScriptEvaluateAsync(SetIdleTimeScript, [stream], arguments).ConfigureAwait(false);

        return (RedisValue[]?)result ?? [];
    }

    /// <summary>Tells the other readers of a stream that entries were released for them to claim now.</summary>
    public async Task AnnounceReleased(RedisKey stream)
    {
        var multiplexer = await Connection.GetMultiplexer().ConfigureAwait(false);

        await multiplexer.GetDatabase().PublishAsync(WakeChannel(multiplexer, stream), WakeClaim).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes consumers of <paramref name="group" /> that have no pending entries and were idle at least
    /// <paramref name="minIdle" />: only <paramref name="onlyConsumer" /> when given, else every one but
    /// <paramref name="exceptConsumer" />. Returns the names deleted.
    /// </summary>
    public async Task<string[]> RemoveIdleConsumers(RedisKey stream, string group, TimeSpan minIdle, string? onlyConsumer, string exceptConsumer)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);
        var result = await database.ScriptEvaluateAsync(RemoveConsumersScript, [stream],
            [group, (long)minIdle.TotalMilliseconds, onlyConsumer ?? "", exceptConsumer]).ConfigureAwait(false);

        return Array.ConvertAll((RedisValue[]?)result ?? [], x => x.ToString());
    }

    /// <summary>
    /// Trims a stream to a retention policy, never removing what a consumer group still needs (see the trim script).
    /// </summary>
    /// <param name="stream">The stream.</param>
    /// <param name="maxEntries">The most entries to keep, or null.</param>
    /// <param name="maxAge">The oldest entries to keep, or null.</param>
    /// <param name="countLimit">How many entries at most the script reads to decide how to trim by length.</param>
    /// <seealso href="https://redis.io/commands/xtrim" />
    public async Task<(long Removed, string? KeptFor, bool Uncounted)> Trim(RedisKey stream, long? maxEntries, TimeSpan? maxAge, int countLimit)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);
        var result = (RedisResult[])(await database.ScriptEvaluateAsync(TrimScript, [stream],
            [maxEntries ?? -1, maxAge is { } age ? (long)age.TotalMilliseconds : -1, countLimit]).ConfigureAwait(false))!;

        var keptFor = (string?)result[1];
        return ((long)result[0], string.IsNullOrEmpty(keptFor) ? null : keptFor, (string?)result[2] == "uncounted");
    }

    /// <summary>Takes a lease (SET NX PX) unless another holder has it.</summary>
    public async Task<bool> AcquireLease(RedisKey key, string holder, TimeSpan ttl)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        return await database.StringSetAsync(key, holder, ttl, When.NotExists).ConfigureAwait(false);
    }

    /// <summary>Extends a lease this holder has; false when it has lost it.</summary>
    public async Task<bool> RenewLease(RedisKey key, string holder, TimeSpan ttl)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);
        var result = await database.ScriptEvaluateAsync(RenewLeaseScript, [key], [holder, (long)ttl.TotalMilliseconds]).ConfigureAwait(false);

        return (long)result == 1;
    }

    /// <summary>Gives up a lease this holder has.</summary>
    public async Task ReleaseLease(RedisKey key, string holder)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        await database.ScriptEvaluateAsync(ReleaseLeaseScript, [key], [holder]).ConfigureAwait(false);
    }

    /// <summary>Takes a consumer name unless another instance holds it (see <see cref="TakeConsumerLeaseScript" />).</summary>
    public async Task<bool> TakeConsumerLease(string name, string holder, ConsumerLeaseTimes times)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);
        var result = await database.ScriptEvaluateAsync(TakeConsumerLeaseScript, ConsumerLeaseKeys,
            [name, holder, Ms(times.Lease), Ms(times.Quarantine)]).ConfigureAwait(false);

        return (long)result == 1;
    }

    /// <summary>
    /// Renews a consumer name lease, or takes the name again when it is free, and returns the names whose leases ran out
    /// after <paramref name="since" /> (see <see cref="RenewConsumerLeaseScript" />). Blocking: it is called from the lease's
    /// own thread, so that a thread pool starved by blocking handlers cannot hold a renewal back.
    /// </summary>
    /// <param name="name">The consumer name.</param>
    /// <param name="holder">The random ID of the instance that holds it.</param>
    /// <param name="times">The lease time and the times the script works with.</param>
    /// <param name="since">Where the previous renewal said the report starts, in Unix ms; or, negative, a time before now.</param>
    /// <param name="forget">Whether to forget the leases that ran out longer ago than <see cref="ConsumerLeaseTimes.Remembered" />.</param>
    public ConsumerLeaseRenewal RenewConsumerLease(string name, string holder, ConsumerLeaseTimes times, long since, bool forget)
    {
        var database = Connection.GetDatabase().GetAwaiter().GetResult();
        var result = (RedisResult[])database.ScriptEvaluate(RenewConsumerLeaseScript, ConsumerLeaseKeys,
            [name, holder, Ms(times.Lease), Ms(times.Quarantine), Ms(times.GapLimit), since, forget ? Ms(times.Remembered) : 0])!;

        var dead = Array.ConvertAll((RedisValue[]?)result[2] ?? [], x => x.ToString());
        return new ConsumerLeaseRenewal((long)result[0], (int)(long)result[1], dead, (long)result[3]);
    }

    /// <summary>Gives up a consumer name this holder has.</summary>
    public async Task ReleaseConsumerLease(string name, string holder)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        await database.ScriptEvaluateAsync(ReleaseConsumerLeaseScript, ConsumerLeaseKeys, [name, holder]).ConfigureAwait(false);
    }

    RedisKey[] ConsumerLeaseKeys => [Keys.ConsumerLeases, Keys.ConsumerHolders];

    static long Ms(TimeSpan time) => (long)time.TotalMilliseconds;

    /// <summary>
    /// The pending entries of <paramref name="consumer" /> idle at least <paramref name="minIdle" />, oldest first (XPENDING
    /// with IDLE and a consumer).
    /// </summary>
    /// <seealso href="https://redis.io/commands/xpending" />
    public async Task<StreamPendingMessageInfo[]> GetIdlePending(RedisKey stream, string group, string consumer, TimeSpan minIdle, int count)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamPendingMessagesAsync(stream, group, count, consumer, "-", "+", Ms(minIdle)).ConfigureAwait(false);
    }

    /// <summary>
    /// Claims the given entries for <paramref name="consumer" /> (XCLAIM), each only if it is still idle at least
    /// <paramref name="minIdle" />, so that of two claimers only one gets an entry and an entry just read by its holder stays.
    /// Returns the entries claimed; entries deleted from the stream meanwhile are dropped from the pending list by Redis.
    /// </summary>
    /// <seealso href="https://redis.io/commands/xclaim" />
    public async Task<StreamEntry[]> Claim(RedisKey stream, string group, string consumer, TimeSpan minIdle, RedisValue[] ids)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamClaimAsync(stream, group, consumer, Ms(minIdle), ids).ConfigureAwait(false);
    }

    /// <summary>Checks that the server answers (PING).</summary>
    public async Task Ping()
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        await database.PingAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Reads entries between two IDs (XRANGE, or XREVRANGE for <paramref name="newestFirst" />). "-" and "+" are the ends;
    /// an ID written "(id" leaves that ID out.
    /// </summary>
    /// <seealso href="https://redis.io/commands/xrange" />
    public async Task<StreamEntry[]> Range(RedisKey stream, RedisValue first, RedisValue last, int count, bool newestFirst = false)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamRangeAsync(stream, first, last, count, newestFirst ? Order.Descending : Order.Ascending).ConfigureAwait(false);
    }

    /// <summary>What a stream holds (XINFO STREAM), or null when there is no such stream.</summary>
    /// <seealso href="https://redis.io/commands/xinfo-stream" />
    public async Task<StreamInfo?> GetStreamInfo(RedisKey stream)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);
        try
        {
            return await database.StreamInfoAsync(stream).ConfigureAwait(false);
        }
        catch (RedisServerException exception) when (exception.Message.Contains("no such key", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
    }

    /// <summary>The consumer groups of a stream (XINFO GROUPS); none when there is no such stream.</summary>
    /// <seealso href="https://redis.io/commands/xinfo-groups" />
    public async Task<StreamGroupInfo[]> GetGroups(RedisKey stream)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);
        try
        {
            return await database.StreamGroupInfoAsync(stream).ConfigureAwait(false);
        }
        catch (RedisServerException exception) when (exception.Message.Contains("no such key", StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }
    }

    /// <summary>The consumers of a group (XINFO CONSUMERS).</summary>
    /// <seealso href="https://redis.io/commands/xinfo-consumers" />
    public async Task<StreamConsumerInfo[]> GetConsumers(RedisKey stream, string group)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        return await database.StreamConsumerInfoAsync(stream, group).ConfigureAwait(false);
    }

    /// <summary>The memory a key takes, in bytes (MEMORY USAGE); null when the server does not tell.</summary>
    /// <seealso href="https://redis.io/commands/memory-usage" />
    public async Task<long?> GetMemoryUsage(RedisKey key)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);
        try
        {
            var result = await database.ExecuteAsync("MEMORY", "USAGE", key).ConfigureAwait(false);
            return result.IsNull ? null : (long)result;
        }
        catch (RedisServerException)
        {
            // A server or user that does not allow MEMORY: the size is simply unknown.
            return null;
        }
    }

    /// <summary>Moves a consumer group to a new last delivered ID (XGROUP SETID).</summary>
    /// <seealso href="https://redis.io/commands/xgroup-setid" />
    public async Task SetGroupPosition(RedisKey stream, string group, RedisValue lastDeliveredId)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        await database.ExecuteAsync("XGROUP", "SETID", stream, group, lastDeliveredId).ConfigureAwait(false);
    }

    /// <summary>Tells the readers of a stream that there are entries for them, as an append does.</summary>
    public async Task AnnounceEntries(RedisKey stream)
    {
        var multiplexer = await Connection.GetMultiplexer().ConfigureAwait(false);

        await multiplexer.GetDatabase().PublishAsync(WakeChannel(multiplexer, stream), WakeEntry).ConfigureAwait(false);
    }

    /// <summary>The wake channel of <paramref name="stream" />: sharded on a Redis Cluster.</summary>
    RedisChannel WakeChannel(IConnectionMultiplexer multiplexer, RedisKey stream) =>
        Keys.WakeChannel(stream, Connection.IsCluster(multiplexer));

    /// <summary>
    /// One page of a scan for stream keys matching <paramref name="pattern" /> (SCAN ... MATCH ... TYPE stream).
    /// </summary>
    /// <returns>The cursor to continue from ("0" when the scan is complete) and the keys found.</returns>
    /// <seealso href="https://redis.io/commands/scan" />
    /// <remarks>
    /// On a Redis Cluster each primary holds the keys of its own slots, so the scan goes through the connected primaries one
    /// after the other (in the order of their addresses), and the cursor names the primary too: <c>&lt;index&gt;:&lt;cursor&gt;</c>.
    /// A key that moves to another primary during the scan can be found twice, or, like any key SCAN does not guarantee, not
    /// at all.
    /// </remarks>
    public async Task<(RedisValue Cursor, RedisKey[] Keys)> ScanStreams(RedisValue cursor, string pattern, int count)
    {
        var multiplexer = await Connection.GetMultiplexer().ConfigureAwait(false);
        if (!Connection.IsCluster(multiplexer))
        {
            var result = await multiplexer.GetDatabase().ExecuteAsync("SCAN", cursor, "MATCH", pattern, "COUNT", count, "TYPE", "stream")
                .ConfigureAwait(false);

            var parts = (RedisResult[])result!;
            return ((RedisValue)parts[0], (RedisKey[])parts[1]!);
        }

        var primaries = GetPrimaries(multiplexer);
        var text = cursor.IsNullOrEmpty ? "0" : cursor.ToString();
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var index = colon < 0 ? 0 : int.Parse(text.AsSpan(0, colon), System.Globalization.CultureInfo.InvariantCulture);
        var nodeCursor = colon < 0 ? text : text[(colon + 1)..];
        if (index >= primaries.Length)
            return ("0", []);

        var page = (RedisResult[])(await primaries[index].ExecuteAsync("SCAN", nodeCursor, "MATCH", pattern, "COUNT", count, "TYPE", "stream")
            .ConfigureAwait(false))!;
        var next = (string)page[0]!;
        var nextCursor = next != "0" ? $"{index}:{next}" : index + 1 < primaries.Length ? $"{index + 1}:0" : "0";

        return (nextCursor, (RedisKey[])page[1]!);
    }

    /// <summary>The connected primaries of a cluster, in the order of their addresses.</summary>
    static IServer[] GetPrimaries(IConnectionMultiplexer multiplexer)
    {
        var primaries = Array.FindAll(multiplexer.GetServers(), x => x.IsConnected && !x.IsReplica);
        Array.Sort(primaries, (a, b) => string.CompareOrdinal(a.EndPoint.ToString(), b.EndPoint.ToString()));
        return primaries;
    }

    /// <summary>Every stream key matching <paramref name="pattern" />.</summary>
    public async Task<List<RedisKey>> ScanAllStreams(string pattern)
    {
        var keys = new List<RedisKey>();
        var seen = new HashSet<RedisKey>();
        RedisValue cursor = "0";
        do
        {
            (cursor, var page) = await ScanStreams(cursor, pattern, 500).ConfigureAwait(false);
            foreach (var key in page)
            {
                // SCAN may return a key twice; on a cluster, so may two primaries while the key's slot moves.
                if (seen.Add(key))
                    keys.Add(key);
            }
        }
        while (cursor != "0");

        return keys;
    }

    /// <summary>The consumer groups registered as consuming the type of <paramref name="eventStream" />, with their start positions.</summary>
    public async Task<HashEntry[]> GetSubscribers(RedisKey eventStream)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        return await database.HashGetAllAsync(Keys.Subscribers(eventStream)).ConfigureAwait(false);
    }

    /// <summary>True when the key exists.</summary>
    public async Task<bool> Exists(RedisKey key)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        return await database.KeyExistsAsync(key).ConfigureAwait(false);
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

        await Task.WhenAll(database.KeyDeleteAsync(stream), database.KeyDeleteAsync(Keys.Wake(stream))).ConfigureAwait(false);
    }

    /// <summary>Stores a host record under its ID unless one is stored already (HSETNX).</summary>
    public async Task StoreHost(string id, string json)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        await database.HashSetAsync(Keys.Hosts, id, json, When.NotExists).ConfigureAwait(false);
    }

    /// <summary>The stored host record named <paramref name="id" />, or null. A blocking read: it runs once per host.</summary>
    public string? GetHost(string id)
    {
        return Connection.GetMultiplexer().GetAwaiter().GetResult().GetDatabase().HashGet(Keys.Hosts, id);
    }

    /// <summary>Deletes a consumer group (XGROUP DESTROY) with its pending entries list.</summary>
    public async Task DestroyGroup(RedisKey stream, string group)
    {
        var database = await Connection.GetDatabase().ConfigureAwait(false);

        await database.StreamDeleteConsumerGroupAsync(stream, group).ConfigureAwait(false);
    }

    /// <summary>
    /// Moves one key beside a stream from its name before it started with the key prefix (KEYS[1], <c>{p:S}:x</c>) to its
    /// name now (KEYS[2], <c>p:{p:S}:x</c>); both share a hash slot. When the new key exists too (an instance of the new
    /// version already used it), the two are merged: sets and sorted sets by union (a token keeps its earlier due time),
    /// hashes field by field (the new key's value wins), a clock keeps the later entry ID. Returns 1 when a key was moved.
    /// </summary>
    const string MigrateKeyScript = """
        local kind = redis.call('TYPE', KEYS[1])['ok']
        if kind == 'none' then
          return 0
        end
        if redis.call('EXISTS', KEYS[2]) == 0 then
          redis.call('RENAME', KEYS[1], KEYS[2])
          return 1
        end
        if kind == 'set' then
          redis.call('SUNIONSTORE', KEYS[2], KEYS[2], KEYS[1])
        elseif kind == 'zset' then
          redis.call('ZUNIONSTORE', KEYS[2], 2, KEYS[2], KEYS[1], 'AGGREGATE', 'MIN')
        elseif kind == 'hash' then
          local fields = redis.call('HGETALL', KEYS[1])
          for i = 1, #fields, 2 do
            redis.call('HSETNX', KEYS[2], fields[i], fields[i + 1])
          end
        elseif kind == 'string' and ARGV[1] == 'clock' then
          local function parse(id)
            local ms, seq = string.match(id or '', '^(%d+)-(%d+)$')
            return tonumber(ms or 0), tonumber(seq or 0)
          end
          local oldMs, oldSeq = parse(redis.call('GET', KEYS[1]))
          local newMs, newSeq = parse(redis.call('GET', KEYS[2]))
          if oldMs > newMs or (oldMs == newMs and oldSeq > newSeq) then
            redis.call('SET', KEYS[2], oldMs .. '-' .. oldSeq)
          end
        end
        redis.call('DEL', KEYS[1])
        return 1
        """;

    /// <summary>
    /// Moves the keys beside this prefix's streams that were written under their earlier names (<c>{p:queue:x}:delayed</c>)
    /// to their names now (<c>p:{p:queue:x}:delayed</c>), merging where both exist; scans every primary. Returns the keys
    /// moved. Without a prefix there is nothing to move: those names did not change.
    /// </summary>
    public async Task<List<(RedisKey From, RedisKey To)>> MigrateLegacyKeys(CancellationToken cancellationToken = default)
    {
        var moved = new List<(RedisKey, RedisKey)>();
        if (Keys.LegacyBesidePattern is not { } pattern)
            return moved;

        var multiplexer = await Connection.GetMultiplexer().ConfigureAwait(false);
        var database = multiplexer.GetDatabase();
        foreach (var server in multiplexer.GetServers())
        {
            if (server.IsReplica || !server.IsConnected)
                continue;

            await foreach (var key in server.KeysAsync(pattern: pattern, pageSize: 500).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                if (Keys.CurrentNameOfLegacyKey(key) is not { } target)
                    continue;

                var kind = key.ToString().EndsWith("}:clock", StringComparison.Ordinal) ? "clock" : "";
                var result = await database.ScriptEvaluateAsync(MigrateKeyScript, [key, target], [kind]).ConfigureAwait(false);
                if ((long)result == 1)
                    moved.Add((key, target));
            }
        }

        return moved;
    }
}


/// <summary>What one round of reads returned, per stream in the order asked.</summary>
/// <param name="Entries">The entries read from each stream, in ID order; empty where there were none.</param>
/// <param name="Atomic">
/// True when all streams were read at one instant (one command); false when each was read by its own command, in stream
/// order.
/// </param>
/// <param name="Ordered">
/// True when entry IDs order appends across the streams (one Redis, one clock); false on a Redis Cluster, where each stream
/// has its own clock and the order holds per stream only.
/// </param>
readonly record struct ReadRound(StreamEntry[][] Entries, bool Atomic, bool Ordered = true);
