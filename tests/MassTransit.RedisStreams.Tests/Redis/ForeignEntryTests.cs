namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Threading.Tasks;
using Infrastructure;
using MassTransit.Serialization;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// An entry written by something that is not MassTransit — redis-cli or the original Python broker — reaches a consumer, on an
/// endpoint with the transport's defaults or one configured for raw JSON.
/// </summary>
public class ForeignEntryTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("body", true)]
    [InlineData("data", true)]
    [InlineData("body", false)]
    [InlineData("data", false)]
    public async Task A_plain_json_entry_added_with_XADD_is_consumed(string bodyField, bool rawJsonEndpoint)
    {
        var redis = await RedisTestContext.Create();
        var logs = new DeliveryLogs();

        await using var provider = await redis.StartHarness(x => x.AddConsumer<NotificationConsumer>(), (context, cfg) =>
        {
            cfg.ReceiveEndpoint("raw-auctions", e =>
            {
                e.ConfigureConsumeTopology = false;
                e.Subscribe<AuctionEnded>();
                // Without it, the transport's own format reads plain JSON: it is the same format, without headers.
                if (rawJsonEndpoint)
                    e.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType, isDefault: true);
                e.ConfigureConsumer<NotificationConsumer>(context);
            });
        }, h => h.IdlePollInterval = TimeSpan.FromMilliseconds(100), s => s.AddSingleton(logs));

        var auctionId = Guid.NewGuid();
        var db = await redis.Database();

        // What `redis-cli XADD events:AuctionEnded * body '{...}'` sends: one field, no headers, no wake-up.
        await db.StreamAddAsync(redis.Key("events:AuctionEnded"), bodyField,
            $"{{\"auctionId\":\"{auctionId}\",\"item\":\"Painting\",\"amount\":300.0}}");

        var log = logs.Get(nameof(NotificationConsumer));
        Assert.True(await log.WaitForDistinct(1, Timeout));
        Assert.Equal(1, log.CountOf(auctionId.ToString()));
    }
}
