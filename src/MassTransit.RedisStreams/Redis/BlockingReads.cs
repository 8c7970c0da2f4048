namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// The blocking readers of a bus: at most <see cref="RedisStreamsTransportOptions.MaxReaderConnections" /> connections of their
/// own, each lent to one receive endpoint while it runs, and lent again when that endpoint stops. An endpoint that gets none
/// waits for wake-ups instead.
/// </summary>
/// <remarks>
/// <c>XREADGROUP ... BLOCK</c> names one consumer group, and each endpoint reads through its own, so endpoints cannot share a
/// blocked command; and a connection carries one blocked command at a time. So it is one connection per endpoint, up to the
/// limit, not a pool that endpoints take turns on: an endpoint not blocked at the moment an entry arrives would see it only at
/// its next turn.
/// </remarks>
sealed class BlockingReads :
    IAsyncDisposable
{
    /// <summary>How much longer than a read's block time StackExchange.Redis waits for its answer before it times out.</summary>
    static readonly TimeSpan AnswerMargin = TimeSpan.FromSeconds(5);

    static readonly CommandMap NoSubscriptions = CommandMap.Create(new HashSet<string> { "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE" }, false);

    readonly TimeSpan _block;
    readonly RedisConnection _connection;
    readonly Stack<BlockingReader> _idle = new();
    readonly List<BlockingReader> _all = new();
    readonly int _limit;
    readonly object _lock = new();
    ConfigurationOptions? _options;
    Task<ConnectionMultiplexer>? _control;
    bool _noOptions;
    bool _unblockRefused;

    /// <param name="connection">The bus's connection: where the readers connect to, and what ends their reads early.</param>
    /// <param name="limit">The most connections of their own; 0 turns blocking reads off.</param>
    /// <param name="block">How long a read blocks at most: the endpoints' idle poll interval.</param>
    public BlockingReads(RedisConnection connection, int limit, TimeSpan block)
    {
        _connection = connection;
        _limit = limit;
        _block = block;
    }

    /// <summary>How long a read blocks at most.</summary>
    public TimeSpan BlockTime => _block;

    /// <summary>
    /// Whether one blocking read can cover all of <paramref name="streams" />: always on one Redis; on a Redis Cluster only when
    /// they share a hash slot, since one command may touch one slot only. Null while that is not known: not connected yet.
    /// </summary>
    public bool? CanCover(IReadOnlyList<RedisKey> streams)
    {
        if (_limit <= 0 || streams.Count == 0)
            return false;

        var connecting = _connection.GetMultiplexerIfConnected();
        if (connecting == null || !connecting.IsConnected)
            return null;

        if (!_connection.IsCluster(connecting))
            return true;

        var slot = connecting.HashSlot(streams[0]);
        for (var i = 1; i < streams.Count; i++)
        {
            if (connecting.HashSlot(streams[i]) != slot)
                return false;
        }

        return true;
    }

    /// <summary>A reader for one endpoint, until it gives it back; null when all are lent out, or none can be made.</summary>
    public BlockingReader? TryTake()
    {
        lock (_lock)
        {
            if (_idle.TryPop(out var reader))
                return reader;

            if (_all.Count >= _limit || Options() is not { } options)
                return null;

            reader = new BlockingReader(this, options);
            _all.Add(reader);
            return reader;
        }
    }

    /// <summary>Gives a reader back, for the next endpoint; its connection stays open. No read of it may be in progress.</summary>
    public void Return(BlockingReader reader)
    {
        reader.Detach();
        lock (_lock)
            _idle.Push(reader);
    }

    ConfigurationOptions? Options()
    {
        if (_options != null || _noOptions)
            return _options;

        var options = _connection.DedicatedOptions();
        if (options == null)
        {
            _noOptions = true;
            LogContext.Warning?.Log("The Redis connection's options cannot be read, so endpoints wait for wake-ups instead of blocking reads: {Connection}",
                _connection.Description);
            return null;
        }

        // As the bus's own connection: starts while Redis is down, fails a command at once while disconnected.
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;

        // A blocked read is answered only when its block time has passed.
        var timeout = (int)Math.Min(int.MaxValue, (_block + AnswerMargin).TotalMilliseconds);
        options.AsyncTimeout = Math.Max(options.AsyncTimeout, timeout);
        options.SyncTimeout = Math.Max(options.SyncTimeout, timeout);

        // CLIENT ID, which StackExchange.Redis sends only in admin mode; the connection is the transport's own.
        options.AllowAdmin = true;

        // Nothing but the reads: no subscription connection, no configuration channel.
        if (ReferenceEquals(options.CommandMap, CommandMap.Default))
            options.CommandMap = NoSubscriptions;
        options.ConfigurationChannel = "";

        // Known to operators (CLIENT LIST) as the bus's stream readers.
        options.ClientName = (string.IsNullOrEmpty(options.ClientName) ? Environment.MachineName : options.ClientName).Replace(' ', '-') + ":stream-reader";

        return _options = options;
    }

    /// <summary>
    /// Ends the blocked read of client <paramref name="clientId" /> on <paramref name="server" /> as if its block time had
    /// passed (CLIENT UNBLOCK ... TIMEOUT). It goes over a connection of the readers' own, made on first use: StackExchange.Redis
    /// sends CLIENT only in admin mode, which the bus's own connection, perhaps the application's, need not allow.
    /// </summary>
    /// <returns>True when the read was blocked and is ended now.</returns>
    public async Task<bool> Unblock(EndPoint server, long clientId)
    {
        if (Volatile.Read(ref _unblockRefused))
            return false;

        var control = await Control().ConfigureAwait(false);
        try
        {
            return (long)await control.GetServer(server).ExecuteAsync("CLIENT", "UNBLOCK", clientId, "TIMEOUT").ConfigureAwait(false) == 1;
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("NOPERM", StringComparison.Ordinal))
        {
            // An ACL user without @dangerous: asked once per bus, then the readers' connections are closed instead.
            Volatile.Write(ref _unblockRefused, true);
            return false;
        }
    }

    Task<ConnectionMultiplexer> Control()
    {
        lock (_lock)
        {
            if (_control == null || _control.IsFaulted || _control.IsCanceled)
            {
                var options = _options!.Clone();
                options.ClientName = options.ClientName!.Replace(":stream-reader", ":stream-reader-control", StringComparison.Ordinal);
                _control = ConnectionMultiplexer.ConnectAsync(options);
            }

            return _control;
        }
    }

    /// <summary>Closes every reader's connection; called when the bus has stopped, after its endpoints.</summary>
    public async ValueTask DisposeAsync()
    {
        BlockingReader[] readers;
        Task<ConnectionMultiplexer>? control;
        lock (_lock)
        {
            readers = _all.ToArray();
            _all.Clear();
            _idle.Clear();
            control = _control;
            _control = null;
        }

        foreach (var reader in readers)
            await reader.DisposeAsync().ConfigureAwait(false);

        if (control != null)
        {
            try
            {
                var multiplexer = await control.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
                await multiplexer.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
                await multiplexer.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception exception) when (TransientFailures.IsRedisFailure(exception) || exception is TimeoutException)
            {
                LogContext.Debug?.Log(exception, "Closing the blocking readers' control connection failed");
            }
        }
    }
}
