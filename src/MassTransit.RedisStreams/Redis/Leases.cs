namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// Leases in Redis, by the server's clock: the one that lets one instance of a bus at a time do a job (the retention pass),
/// and the leases of the running instances on their consumer names, whose running out tells the others that an instance died.
/// </summary>
interface ILeases
{
    /// <summary>Takes a lease (SET NX PX) unless another holder has it.</summary>
    /// <seealso href="https://redis.io/commands/set" />
    Task<bool> TryTake(RedisKey lease, string holder, TimeSpan time);

    /// <summary>Extends a lease this holder has; false when it has lost it (<c>exclusive-lease.lua</c>).</summary>
    Task<bool> Renew(RedisKey lease, string holder, TimeSpan time);

    /// <summary>Gives up a lease this holder has (<c>exclusive-lease.lua</c>).</summary>
    Task Release(RedisKey lease, string holder);

    /// <summary>Takes a consumer name unless another instance holds it (<c>consumer-lease.lua</c>, mode <c>take</c>).</summary>
    Task<bool> TakeName(string name, string holder, ConsumerLeaseTimes times);

    /// <summary>
    /// Renews a consumer name lease, or takes the name again when it is free, and returns the names whose leases ran out after
    /// <paramref name="since" /> (<c>consumer-lease.lua</c>, mode <c>renew</c>). Blocking: it is called from the lease's own
    /// thread, so that a thread pool starved by blocking handlers cannot hold a renewal back.
    /// </summary>
    /// <param name="name">The consumer name.</param>
    /// <param name="holder">The random ID of the instance that holds it.</param>
    /// <param name="times">The lease time and the times the script works with.</param>
    /// <param name="since">Where the previous renewal said the report starts, in Unix ms; or, negative, a time before now.</param>
    /// <param name="forget">Whether to forget the leases that ran out longer ago than <see cref="ConsumerLeaseTimes.Remembered" />.</param>
    ConsumerLeaseRenewal RenewName(string name, string holder, ConsumerLeaseTimes times, long since, bool forget);

    /// <summary>Gives up a consumer name this holder has (<c>consumer-lease.lua</c>, mode <c>release</c>).</summary>
    Task ReleaseName(string name, string holder);

    /// <summary>The consumer names whose lease has not run out by the server's clock: those of running instances.</summary>
    /// <seealso href="https://redis.io/commands/zrangebyscore" />
    Task<HashSet<string>> GetLiveNames();
}


/// <summary>How long a consumer name lease lives, and the times the lease script works with.</summary>
/// <param name="Lease">How long a lease lives unless renewed.</param>
/// <param name="Quarantine">How long after it ran out a lease keeps its name from others, so that its entries are claimed first.</param>
/// <param name="GapLimit">A renewal this long after the previous one follows an outage or a stall: it reports no deaths.</param>
/// <param name="Remembered">How long a lease that ran out stays in the set.</param>
readonly record struct ConsumerLeaseTimes(TimeSpan Lease, TimeSpan Quarantine, TimeSpan GapLimit, TimeSpan Remembered);


/// <summary>What a consumer name lease renewal found.</summary>
/// <param name="Since">Where the next renewal's report of deaths starts: a server time in Unix ms.</param>
/// <param name="Status">What happened to the lease.</param>
/// <param name="Dead">The names whose leases ran out since the previous renewal; the renewed name itself when its own had.</param>
/// <param name="Now">The server's time, Unix ms.</param>
readonly record struct ConsumerLeaseRenewal(long Since, ConsumerLeaseStatus Status, string[] Dead, long Now);


/// <summary>What a renewal did with a consumer name lease.</summary>
enum ConsumerLeaseStatus
{
    /// <summary>Another instance holds the name now.</summary>
    TakenByAnother = 0,

    /// <summary>Renewed in time.</summary>
    Renewed = 1,

    /// <summary>Taken again: Redis had lost it, or another instance had given it up.</summary>
    TakenAgain = 2
}


/// <inheritdoc />
sealed class Leases :
    ILeases
{
    static readonly RedisValue Take = "take";
    static readonly RedisValue Renewal = "renew";
    static readonly RedisValue Release_ = "release";

    readonly RedisConnection _connection;
    readonly StreamKeys _keys;

    public Leases(RedisConnection connection, StreamKeys keys)
    {
        _connection = connection;
        _keys = keys;
    }

    RedisKey[] NameLeaseKeys => [_keys.ConsumerLeases, _keys.ConsumerHolders];

    public async Task<bool> TryTake(RedisKey lease, string holder, TimeSpan time)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        return await database.StringSetAsync(lease, holder, time, When.NotExists).ConfigureAwait(false);
    }

    public async Task<bool> Renew(RedisKey lease, string holder, TimeSpan time)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        var result = await RedisScript.ExclusiveLease.Evaluate(database, [lease], [Renewal, holder, Ms(time)]).ConfigureAwait(false);

        return (long)result == 1;
    }

    public async Task Release(RedisKey lease, string holder)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        await RedisScript.ExclusiveLease.Evaluate(database, [lease], [Release_, holder]).ConfigureAwait(false);
    }

    public async Task<bool> TakeName(string name, string holder, ConsumerLeaseTimes times)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        var result = await RedisScript.ConsumerLease.Evaluate(database, NameLeaseKeys, [Take, name, holder, Ms(times.Lease), Ms(times.Quarantine)])
            .ConfigureAwait(false);

        return (long)result == 1;
    }

    public ConsumerLeaseRenewal RenewName(string name, string holder, ConsumerLeaseTimes times, long since, bool forget)
    {
        var database = _connection.GetDatabase().GetAwaiter().GetResult();
        var result = (RedisResult[])RedisScript.ConsumerLease.EvaluateBlocking(database, NameLeaseKeys,
            [Renewal, name, holder, Ms(times.Lease), Ms(times.Quarantine), Ms(times.GapLimit), since, forget ? Ms(times.Remembered) : 0])!;

        var dead = Array.ConvertAll((RedisValue[]?)result[2] ?? [], x => x.ToString());
        return new ConsumerLeaseRenewal((long)result[0], (ConsumerLeaseStatus)(int)(long)result[1], dead, (long)result[3]);
    }

    public async Task ReleaseName(string name, string holder)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        await RedisScript.ConsumerLease.Evaluate(database, NameLeaseKeys, [Release_, name, holder]).ConfigureAwait(false);
    }

    static long Ms(TimeSpan time) => (long)time.TotalMilliseconds;

    public async Task<HashSet<string>> GetLiveNames()
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);

        // The server's clock, by which the expiries are written (keyless: on a Cluster, any node's, a little apart at most).
        var time = (RedisResult[])(await database.ExecuteAsync("TIME").ConfigureAwait(false))!;
        var now = (long)time[0] * 1000 + (long)time[1] / 1000;
        var names = await database.SortedSetRangeByScoreAsync(_keys.ConsumerLeases, now, double.PositiveInfinity, Exclude.Start).ConfigureAwait(false);

        return new HashSet<string>(names.Select(x => (string)x!), StringComparer.Ordinal);
    }
}
