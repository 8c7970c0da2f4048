namespace MassTransit.RedisStreams.Tests.Faults;

using System;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using Redis;
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

        using (var first = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix, ("consumer-name", "pod-7")))
        {
            Assert.True(await db.KeyExistsAsync(redis.Key("consumers:pod-7")));

            using var second = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix, ("consumer-name", "pod-7"));
            Assert.True(await db.KeyExistsAsync(redis.Key("consumers:pod-7-1")), "a second live instance gets a name of its own");

            first.Kill();
        }

        var ttl = await db.KeyTimeToLiveAsync(redis.Key("consumers:pod-7"));
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.Zero, TimeSpan.FromSeconds(30));
    }
}
