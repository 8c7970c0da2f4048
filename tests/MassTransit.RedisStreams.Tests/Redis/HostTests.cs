namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Threading.Tasks;
using Infrastructure;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// The three ways to connect: a configuration string, StackExchange.Redis options, or a connection the application owns
/// and keeps.
/// </summary>
public class HostTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_bus_on_configuration_options_sends_and_receives()
    {
        var redis = await RedisTestContext.Create();
        var log = new DeliveryLog();

        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(ConfigurationOptions.Parse(redis.ConnectionString), h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("options", e => e.Handler<AuctionEnded>(c =>
            {
                log.Record(c.Message.Item);
                return Task.CompletedTask;
            }));
        });

        await bus.StartAsync();
        try
        {
            await (await bus.GetSendEndpoint(new Uri("queue:options"))).Send(new AuctionEnded(Guid.NewGuid(), "Map", 9m));
            Assert.True(await log.WaitForDistinct(1, Timeout));
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [Fact]
    public async Task A_bus_on_the_application_connection_uses_it_and_leaves_it_open_when_it_stops()
    {
        var redis = await RedisTestContext.Create();
        var log = new DeliveryLog();
        await using var multiplexer = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);

        IBusControl CreateBus() => Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(multiplexer, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("shared-connection", e => e.Handler<AuctionEnded>(c =>
            {
                log.Record(c.Message.Item);
                return Task.CompletedTask;
            }));
        });

        var bus = CreateBus();
        await bus.StartAsync();
        await (await bus.GetSendEndpoint(new Uri("queue:shared-connection"))).Send(new AuctionEnded(Guid.NewGuid(), "First", 1m));
        Assert.True(await log.WaitForDistinct(1, Timeout));
        await bus.StopAsync();

        Assert.True(multiplexer.IsConnected, "the caller's connection stays open after the bus stops");
        Assert.True(await multiplexer.GetDatabase().PingAsync() > TimeSpan.Zero);

        var again = CreateBus();
        await again.StartAsync();
        try
        {
            await (await again.GetSendEndpoint(new Uri("queue:shared-connection"))).Send(new AuctionEnded(Guid.NewGuid(), "Second", 2m));
            Assert.True(await log.WaitForDistinct(2, Timeout));
        }
        finally
        {
            await again.StopAsync();
        }
    }
}
