namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
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

    /// <summary>
    /// The keys <see cref="MigrateLegacyKeys" /> would move now, and for each whether it would be merged into a key that exists
    /// under the new name; nothing is moved.
    /// </summary>
    /// <seealso href="https://redis.io/commands/scan" />
    Task<List<(RedisKey From, RedisKey To, bool Merge)>> PlanLegacyKeys(CancellationToken cancellationToken = default);
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
        var database = (await _connection.GetMultiplexer().ConfigureAwait(false)).GetDatabase();
        await foreach (var (key, target) in LegacyKeys(cancellationToken).ConfigureAwait(false))
        {
            var kind = key.ToString().EndsWith("}:clock", StringComparison.Ordinal) ? Clock : RedisValue.EmptyString;
            var result = await RedisScript.MigrateKey.Evaluate(database, [key, target], [kind]).ConfigureAwait(false);
            if ((long)result == 1)
                moved.Add((key, target));
        }

        return moved;
    }

    public async Task<List<(RedisKey From, RedisKey To, bool Merge)>> PlanLegacyKeys(CancellationToken cancellationToken = default)
    {
        var planned = new List<(RedisKey, RedisKey, bool)>();
        var database = (await _connection.GetMultiplexer().ConfigureAwait(false)).GetDatabase();
        await foreach (var (key, target) in LegacyKeys(cancellationToken).ConfigureAwait(false))
            planned.Add((key, target, await database.KeyExistsAsync(target).ConfigureAwait(false)));

        return planned;
    }

    /// <summary>The keys under their earlier names on every primary, each with its name now.</summary>
    async IAsyncEnumerable<(RedisKey From, RedisKey To)> LegacyKeys([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (_keys.LegacyBesidePattern is not { } pattern)
            yield break;

        var multiplexer = await _connection.GetMultiplexer().ConfigureAwait(false);
        foreach (var server in multiplexer.GetServers())
        {
            if (server.IsReplica || !server.IsConnected)
                continue;

            await foreach (var key in server.KeysAsync(pattern: pattern, pageSize: 500).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                if (_keys.CurrentNameOfLegacyKey(key) is { } target)
                    yield return (key, target);
            }
        }
    }
}
