namespace MassTransit.RedisStreams.Tests.Faults;

using System;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>What a process that dies without stopping leaves behind goes away by itself.</summary>
public class ProcessDeathTests
{
    [Fact]
    public async Task The_response_stream_of_a_killed_process_expires_by_itself()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();

        using var host = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix, ("temporary-expiry-ms", 5000));

        var responseStream = redis.Key("queue:" + new Uri(host.BusAddress).AbsolutePath.Split('/').Last());
        Assert.True(await db.KeyExistsAsync(responseStream));

        host.Kill();

        Assert.True(await Eventually.True(async () => !await db.KeyExistsAsync(responseStream), TimeSpan.FromSeconds(20)),
            "the killed process's response stream expired");
    }

    [Fact]
    public async Task The_consumer_name_lease_of_a_killed_process_runs_out_and_the_name_is_taken_again()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var leases = (RedisKey)$"{redis.KeyPrefix}:{{{redis.KeyPrefix}:consumers}}:leases";
        var holders = (RedisKey)$"{redis.KeyPrefix}:{{{redis.KeyPrefix}:consumers}}:holders";

        RedisValue firstHolder;
        using (var first = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix, ("consumer-name", "pod-7")))
        {
            Assert.NotNull(await db.SortedSetScoreAsync(leases, "pod-7"));
            firstHolder = await db.HashGetAsync(holders, "pod-7");

            using var second = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix, ("consumer-name", "pod-7"));
            Assert.NotNull(await db.SortedSetScoreAsync(leases, "pod-7-1"));

            first.Kill();
        }

        // The lease runs out within seconds; once its quarantine is over too, the name is free for a new instance.
        async Task<long> ServerMs()
        {
            var time = (RedisResult[])(await db.ExecuteAsync("TIME"))!;
            return (long)time[0] * 1000 + (long)time[1] / 1000;
        }

        Assert.True(await Eventually.True(async () => await db.SortedSetScoreAsync(leases, "pod-7") is { } expiry && expiry + 3000 < await ServerMs(),
            TimeSpan.FromSeconds(30)), "the killed instance's lease ran out");

        using var third = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix, ("consumer-name", "pod-7"));
        var thirdHolder = await db.HashGetAsync(holders, "pod-7");
        Assert.False(thirdHolder.IsNull);
        Assert.NotEqual(firstHolder, thirdHolder);
    }
}
