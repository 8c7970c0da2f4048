using System;
using System.IO;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using StackExchange.Redis;
using Xunit;

namespace MassTransit.RedisStreams.Tests.Infrastructure;

public sealed class RedisServerProcessTests
{
    [Fact]
    public async Task Shared_redis_answers_ping()
    {
        var connectionString = await TestRedis.GetConnectionStringAsync();

        await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString + ",abortConnect=false");
        var latency = await redis.GetDatabase().PingAsync();

        Assert.True(latency >= TimeSpan.Zero);
    }

    [RedisServerFact]
    public async Task Private_server_with_aof_always_keeps_a_key_written_before_kill_after_restart()
    {
        using var server = RedisServerProcess.Start(appendOnly: true, appendFsync: "always");
        var port = server.Port;
        var key = TestRedis.NewKeyPrefix() + ":survivor";

        await using (var before = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",abortConnect=false"))
        {
            Assert.True(await before.GetDatabase().StringSetAsync(key, "still here"));
        }

        server.Kill();
        Assert.False(server.IsRunning);

        server.Restart();
        Assert.True(server.IsRunning);
        Assert.Equal(port, server.Port);

        await using var after = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",abortConnect=false");
        Assert.Equal("still here", (string?)await after.GetDatabase().StringGetAsync(key));
    }

    [RedisServerFact]
    public async Task Private_server_stopped_gracefully_keeps_a_key_after_restart()
    {
        using var server = RedisServerProcess.Start();
        var key = TestRedis.NewKeyPrefix() + ":survivor";

        await using (var before = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",abortConnect=false"))
        {
            Assert.True(await before.GetDatabase().StringSetAsync(key, "flushed on shutdown"));
        }

        server.StopGracefully();
        Assert.False(server.IsRunning);

        server.Restart();

        await using var after = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",abortConnect=false");
        Assert.Equal("flushed on shutdown", (string?)await after.GetDatabase().StringGetAsync(key));
    }

    [RedisServerFact]
    public void Disposing_a_private_server_stops_it_and_removes_its_directory()
    {
        var server = RedisServerProcess.Start(appendOnly: false);
        var directory = server.DataDirectory;
        Assert.True(server.IsRunning);
        Assert.True(Directory.Exists(directory));

        server.Dispose();

        Assert.False(server.IsRunning);
        Assert.False(Directory.Exists(directory));
    }

    [Fact]
    public void Key_prefixes_are_short_and_unique()
    {
        var first = TestRedis.NewKeyPrefix();
        var second = TestRedis.NewKeyPrefix();

        Assert.Matches(new Regex("^t[0-9a-f]{8}$"), first);
        Assert.NotEqual(first, second);
    }
}
