namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Internals;
using StackExchange.Redis;


/// <summary>
/// One connection of its own for one endpoint's blocking reads: <c>XREADGROUP ... BLOCK</c> over the endpoint's streams, which
/// Redis answers the moment an entry is appended, in one hop instead of a wake-up and a read.
/// </summary>
/// <remarks>
/// A blocked command holds its connection until it returns, and StackExchange.Redis sends everything over one connection per
/// server, so this multiplexer carries nothing else (it opens no subscription connection either). A read in progress is ended
/// early with <c>CLIENT UNBLOCK &lt;id&gt; TIMEOUT</c>, sent over the readers' control connection: the read then returns as if its
/// block time had passed, and whatever Redis handed out before that still arrives, so nothing is left unseen in the pending
/// list. Where <c>CLIENT UNBLOCK</c> is not allowed (an ACL without <c>@dangerous</c>), the connection is closed instead and
/// made again on the next use.
/// </remarks>
sealed class BlockingReader :
    IAsyncDisposable
{
    /// <summary>How often CLIENT UNBLOCK is tried before the connection is closed instead, and how long apart (times the try).</summary>
    const int UnblockAttempts = 4;

    static readonly TimeSpan UnblockRetryDelay = TimeSpan.FromMilliseconds(20);

    readonly ConcurrentDictionary<EndPoint, long> _clientIds = new();
    readonly BlockingReads _owner;
    readonly ConfigurationOptions _options;
    readonly object _lock = new();
    Task<ConnectionMultiplexer>? _connecting;
    Action? _onReady;
    int _generation;

    /// <param name="owner">The bus's readers, whose control connection sends <c>CLIENT UNBLOCK</c>.</param>
    /// <param name="options">Options of this connection alone (see <see cref="BlockingReads" />).</param>
    public BlockingReader(BlockingReads owner, ConfigurationOptions options)
    {
        _owner = owner;
        _options = options;
    }

    /// <summary>Whether a read can go now: the connection is up.</summary>
    public bool IsReady => Volatile.Read(ref _connecting) is { IsCompletedSuccessfully: true } connecting && connecting.Result.IsConnected;

    /// <summary>Counts the times the connection came (back) up; a read that failed may be tried again once it moved on.</summary>
    public int Generation => Volatile.Read(ref _generation);

    /// <summary>
    /// Begins connecting, unless connected already; <paramref name="onReady" /> is called whenever the connection comes up, so
    /// that an endpoint waiting for wake-ups meanwhile can switch to blocking reads.
    /// </summary>
    public void Attach(Action? onReady)
    {
        Volatile.Write(ref _onReady, onReady);
        Connection().IgnoreUnobservedExceptions();
    }

    /// <summary>The endpoint that attached is done with the reader: it is told nothing more.</summary>
    public void Detach() => Volatile.Write(ref _onReady, null);

    Task<ConnectionMultiplexer> Connection()
    {
        lock (_lock)
        {
            if (_connecting == null || _connecting.IsFaulted || _connecting.IsCanceled)
                _connecting = Connect();

            return _connecting;
        }
    }

    async Task<ConnectionMultiplexer> Connect()
    {
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(_options).ConfigureAwait(false);

        multiplexer.ConnectionFailed += (_, _) => _clientIds.Clear();
        multiplexer.ConnectionRestored += (_, _) => Up();

        if (multiplexer.IsConnected)
            Up();

        return multiplexer;
    }

    void Up()
    {
        // A new connection has a new client ID.
        _clientIds.Clear();
        Interlocked.Increment(ref _generation);
        Volatile.Read(ref _onReady)?.Invoke();
    }

    /// <summary>
    /// Reads new entries of <paramref name="group" /> from <paramref name="streams" />, at most <paramref name="count" /> of
    /// each, waiting up to <paramref name="block" /> for the first one (XREADGROUP ... BLOCK). All streams must share a hash
    /// slot (on one Redis they always do). Ends early, with nothing read, when <paramref name="interrupt" /> is canceled.
    /// </summary>
    /// <returns>
    /// The entries of each stream, in the order asked; all empty when the block time passed. One command answered at one
    /// instant (<see cref="ReadRound.Atomic" />): Redis answers a blocked read in the step that appended to one of its streams,
    /// when the others were still empty.
    /// </returns>
    public async Task<ReadRound> Read(IReadOnlyList<RedisKey> streams, int count, string group, string consumer, TimeSpan block,
        CancellationToken interrupt)
    {
        var multiplexer = await Connection().ConfigureAwait(false);

        // The server the read goes to, and this connection's client ID there, to end the read early.
        var server = multiplexer.GetServer(streams[0], null, CommandFlags.DemandMaster);
        if (!_clientIds.TryGetValue(server.EndPoint, out var clientId))
        {
            try
            {
                clientId = (long)await server.ExecuteAsync("CLIENT", "ID").ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is RedisServerException or RedisCommandException)
            {
                // Not allowed by an ACL: a read is then ended early by closing the connection.
                LogContext.Debug?.Log(exception, "CLIENT ID failed; a blocking read is ended early by closing its connection");
                clientId = -1;
            }

            _clientIds[server.EndPoint] = clientId;
        }

        var args = new object[8 + streams.Count * 2];
        args[0] = "GROUP";
        args[1] = group;
        args[2] = consumer;
        args[3] = "COUNT";
        args[4] = count;
        args[5] = "BLOCK";
        args[6] = (long)Math.Max(1, block.TotalMilliseconds);
        args[7] = "STREAMS";
        for (var i = 0; i < streams.Count; i++)
        {
            args[8 + i] = streams[i];
            args[8 + streams.Count + i] = ">";
        }

        Diagnostics.TransportMetrics.CountCall();
        var reading = multiplexer.GetDatabase().ExecuteAsync("XREADGROUP", args);

        // On a Redis Cluster each stream takes its IDs from its own clock: they order the appends of one stream only.
        var ordered = server.ServerType != ServerType.Cluster;

        if (interrupt.CanBeCanceled && !reading.IsCompleted)
        {
            using var registration = interrupt.Register(() => Unblock(server.EndPoint, clientId, reading).IgnoreUnobservedExceptions());
            return new ReadRound(Parse(await reading.ConfigureAwait(false), streams), true, ordered);
        }

        return new ReadRound(Parse(await reading.ConfigureAwait(false), streams), true, ordered);
    }

    /// <summary>Ends a read in progress as if its block time had passed; closes the connection when Redis does not.</summary>
    async Task Unblock(EndPoint endPoint, long clientId, Task reading)
    {
        // The read may not have reached Redis yet (CLIENT UNBLOCK goes over another connection): a few tries, a moment apart.
        for (var attempt = 1; attempt <= UnblockAttempts && clientId >= 0; attempt++)
        {
            try
            {
                if (await _owner.Unblock(endPoint, clientId).ConfigureAwait(false) || reading.IsCompleted)
                    return;
            }
            catch (Exception exception)
            {
                LogContext.Debug?.Log(exception, "CLIENT UNBLOCK failed; closing the blocking reader's connection instead");
                break;
            }

            // Answered meanwhile (its reply was on its way), or not blocked yet.
            if (await Task.WhenAny(reading, Task.Delay(UnblockRetryDelay * attempt)).ConfigureAwait(false) == reading)
                return;
        }

        // Not allowed (an ACL without @dangerous), or still not ended: closing the connection fails the read.
        if (!reading.IsCompleted)
            await Close().ConfigureAwait(false);
    }

    static StreamEntry[][] Parse(RedisResult result, IReadOnlyList<RedisKey> streams)
    {
        var entries = new StreamEntry[streams.Count][];
        for (var i = 0; i < entries.Length; i++)
            entries[i] = [];

        if (result.IsNull)
            return entries;

        // The streams that had entries: [[stream, entries], ...] in RESP2, {stream: entries, ...} in RESP3; an entry is
        // [id, [field, value, ...]].
        var top = (RedisResult[])result!;
        var map = result.Resp3Type == ResultType.Map;
        for (var s = 0; s < (map ? top.Length / 2 : top.Length); s++)
        {
            RedisKey key;
            RedisResult[] items;
            if (map)
            {
                key = (RedisKey)top[2 * s];
                items = (RedisResult[])top[2 * s + 1]!;
            }
            else
            {
                var pair = (RedisResult[])top[s]!;
                key = (RedisKey)pair[0];
                items = (RedisResult[])pair[1]!;
            }

            var read = new StreamEntry[items.Length];
            for (var e = 0; e < items.Length; e++)
            {
                var item = (RedisResult[])items[e]!;
                var fields = item[1].IsNull ? [] : (RedisResult[])item[1]!;
                var values = new NameValueEntry[fields.Length / 2];
                for (var f = 0; f < values.Length; f++)
                    values[f] = new NameValueEntry((RedisValue)fields[2 * f], (RedisValue)fields[2 * f + 1]);

                read[e] = new StreamEntry((RedisValue)item[0], values);
            }

            for (var i = 0; i < streams.Count; i++)
            {
                if (streams[i] == key)
                    entries[i] = read;
            }
        }

        return entries;
    }

    /// <summary>Closes the connection; the next use makes it again.</summary>
    async Task Close()
    {
        Task<ConnectionMultiplexer>? connecting;
        lock (_lock)
        {
            connecting = _connecting;
            _connecting = null;
        }

        if (connecting == null)
            return;

        try
        {
            var multiplexer = await connecting.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            await multiplexer.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            await multiplexer.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (TransientFailures.IsRedisFailure(exception) || exception is TimeoutException)
        {
            LogContext.Debug?.Log(exception, "Closing a blocking reader's connection failed");
        }
    }

    public ValueTask DisposeAsync()
    {
        Volatile.Write(ref _onReady, null);
        return new ValueTask(Close());
    }
}
