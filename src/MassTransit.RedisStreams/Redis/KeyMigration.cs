namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>Moves keys written under an earlier key layout to their names now.</summary>
interface IKeyMigration
{
    /// <summary>
    /// Moves the keys beside this prefix's streams that were written under their earlier names (<c>{p:queue:x}:delayed</c>)
    /// to their names now (<c>p:{p:queue:x}:delayed</c>), merging where both exist (<c>migrate-key.lua</c>); scans every
    /// primary. Without a prefix there is nothing to move: those names did not change.
    /// </summary>
    /// <returns>The keys moved.</returns>
    Task<List<(RedisKey From, RedisKey To)>> MigrateLegacyKeys(CancellationToken cancellationToken = default);
}


/// <inheritdoc />
sealed class KeyMigration :
    IKeyMigration
{
    static readonly RedisValue Clock = "clock";

    readonly RedisConnection _connection;
    readonly StreamKeys _keys;

    public KeyMigration(RedisConnection connection, StreamKeys keys)
    {
        _connection = connection;
        _keys = keys;
    }

    public async Task<List<(RedisKey From, RedisKey To)>> MigrateLegacyKeys(CancellationToken cancellationToken = default)
    {
        var moved = new List<(RedisKey, RedisKey)>();
        if (_keys.LegacyBesidePattern is not { } pattern)
            return moved;

        var multiplexer = await _connection.GetMultiplexer().ConfigureAwait(false);
        var database = multiplexer.GetDatabase();
        foreach (var server in multiplexer.GetServers())
        {
            if (server.IsReplica || !server.IsConnected)
                continue;

            await foreach (var key in server.KeysAsync(pattern: pattern, pageSize: 500).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                if (_keys.CurrentNameOfLegacyKey(key) is not { } target)
                    continue;

                var kind = key.ToString().EndsWith("}:clock", StringComparison.Ordinal) ? Clock : RedisValue.EmptyString;
                var result = await RedisScript.MigrateKey.Evaluate(database, [key, target], [kind]).ConfigureAwait(false);
                if ((long)result == 1)
                    moved.Add((key, target));
            }
        }

        return moved;
    }
}
