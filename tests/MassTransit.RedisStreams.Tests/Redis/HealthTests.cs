namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Threading.Tasks;
using Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Xunit;


/// <summary>
/// MassTransit's bus health check reports unhealthy while Redis is unreachable and healthy again once it is back.
/// </summary>
public class HealthTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [RedisServerFact]
    public async Task Health_follows_the_Redis_server_down_and_up()
    {
        using var server = RedisServerProcess.Start();
        var redis = await RedisTestContext.Create(server.ConnectionString);

        await using var provider = await redis.StartHarness(x => x.AddConsumer<NotificationConsumer>(),
            services: s => s.AddSingleton(new DeliveryLogs()));

        var health = provider.GetRequiredService<HealthCheckService>();

        async Task<HealthStatus> Status() => (await health.CheckHealthAsync()).Status;

        Assert.True(await Eventually.True(async () => await Status() == HealthStatus.Healthy, Timeout), "healthy once started");

        server.Kill();

        Assert.True(await Eventually.True(async () => await Status() == HealthStatus.Unhealthy, Timeout), "unhealthy while Redis is down");

        server.Restart();

        Assert.True(await Eventually.True(async () => await Status() == HealthStatus.Healthy, Timeout), "healthy again after Redis is back");
    }
}
