namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Linq;
using System.Threading.Tasks;
using Xunit;


/// <summary>
/// Responses go to a per-bus temporary stream that expires by itself if its process dies and is deleted when the bus stops.
/// </summary>
public class TemporaryStreamTests
{
    [Fact]
    public async Task The_response_stream_lives_with_an_expiry_while_the_bus_runs_and_is_deleted_when_it_stops()
    {
        var redis = await RedisTestContext.Create();

        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h =>
            {
                h.KeyPrefix = redis.KeyPrefix;
                h.TemporaryStreamExpiry = TimeSpan.FromSeconds(30);
            });
            cfg.ReceiveEndpoint("stock", e => e.Handler<CheckStock>(c => c.RespondAsync(new StockLevel(c.Message.Sku, 7))));
        });

        await bus.StartAsync();
        try
        {
            Assert.Contains("temporary=true", bus.Address.Query, StringComparison.Ordinal);

            var client = bus.CreateRequestClient<CheckStock>(new Uri("queue:stock"));
            var response = await client.GetResponse<StockLevel>(new CheckStock("A-1"));
            Assert.Equal(7, response.Message.Count);

            var responseStream = redis.Key("queue:" + bus.Address.AbsolutePath.Split('/').Last());
            var db = await redis.Database();

            Assert.True(await db.KeyExistsAsync(responseStream));
            var ttl = await db.KeyTimeToLiveAsync(responseStream);
            Assert.NotNull(ttl);
            Assert.InRange(ttl.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));

            await bus.StopAsync();

            Assert.False(await db.KeyExistsAsync(responseStream), "the bus deletes its response stream when it stops");
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [Fact]
    public async Task A_reply_to_a_response_stream_that_no_longer_exists_does_not_create_it_again()
    {
        var redis = await RedisTestContext.Create();

        var bus = Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix));
        await bus.StartAsync();
        try
        {
            var gone = new Uri("queue:gone_bus_abc?temporary=true");
            var endpoint = await bus.GetSendEndpoint(gone);
            await endpoint.Send(new StockLevel("late", 1));

            var db = await redis.Database();
            Assert.False(await db.KeyExistsAsync(redis.Key("queue:gone_bus_abc")));
        }
        finally
        {
            await bus.StopAsync();
        }
    }


    public record CheckStock(string Sku);

    public record StockLevel(string Sku, int Count);
}
