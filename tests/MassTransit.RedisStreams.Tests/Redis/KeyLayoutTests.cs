namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// What an operator sees in redis-cli is what the original event broker showed: KEYS events:*, XRANGE events:AuctionEnded,
/// XINFO GROUPS and XPENDING.
/// </summary>
public class KeyLayoutTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Published_events_are_entries_of_events_entity_name_read_by_one_group_per_endpoint()
    {
        var redis = await RedisTestContext.Create();
        var logs = new DeliveryLogs();

        await using var provider = await redis.StartHarness(x =>
        {
            x.AddConsumer<NotificationConsumer>().Endpoint(e => e.Name = "auction-notification");
            x.AddConsumer<ReportingConsumer>().Endpoint(e => e.Name = "auction-reporting");
        }, services: s => s.AddSingleton(logs));

        var harness = provider.GetRequiredService<ITestHarness>();
        var auctionId = Guid.NewGuid();
        await harness.Bus.Publish(new AuctionEnded(auctionId, "Vintage lamp", 125.50m));

        Assert.True(await logs.Get(nameof(NotificationConsumer)).WaitForDistinct(1, Timeout));
        Assert.True(await logs.Get(nameof(ReportingConsumer)).WaitForDistinct(1, Timeout));

        var db = await redis.Database();
        var server = db.Multiplexer.GetServers().First();

        var eventKeys = server.Keys(db.Database, redis.KeyPrefix + ":events:*").Select(x => x.ToString()).ToArray();
        Assert.Contains(redis.KeyPrefix + ":events:AuctionEnded", eventKeys);

        var entries = await db.StreamRangeAsync(redis.Key("events:AuctionEnded"), "-", "+");
        var entry = Assert.Single(entries);
        Assert.Contains(auctionId.ToString(), (string?)entry["body"]);
        // The transport's own format: the message's JSON is the body, the headers are fields, host information is named.
        Assert.True(entry["Content-Type"].IsNull);
        Assert.StartsWith("{\"auctionId\":", (string?)entry["body"]);
        Assert.False(entry["MT-Host"].IsNullOrEmpty);
        Assert.False(entry["MessageId"].IsNullOrEmpty);
        Assert.Contains("AuctionEnded", (string?)entry["MT-MessageType"]);

        var groups = await db.StreamGroupInfoAsync(redis.Key("events:AuctionEnded"));
        Assert.Equal(["auction-notification", "auction-reporting"], groups.Select(x => x.Name).Order().ToArray());

        Assert.True(await Eventually.True(async () =>
        {
            var pending = await Task.WhenAll(groups.Select(g => db.StreamPendingAsync(redis.Key("events:AuctionEnded"), g.Name)));
            return pending.All(p => p.PendingMessageCount == 0);
        }, Timeout), "every entry is acknowledged (XPENDING is empty)");
    }

    [Fact]
    public async Task A_sent_message_is_an_entry_of_the_endpoint_queue_stream()
    {
        var redis = await RedisTestContext.Create();
        var logs = new DeliveryLogs();

        await using var provider = await redis.StartHarness(x => x.AddConsumer<NotificationConsumer>().Endpoint(e => e.Name = "notify"),
            services: s => s.AddSingleton(logs));

        var harness = provider.GetRequiredService<ITestHarness>();
        var endpoint = await harness.Bus.GetSendEndpoint(new Uri("queue:notify"));
        await endpoint.Send(new AuctionEnded(Guid.NewGuid(), "Chair", 10m));

        Assert.True(await logs.Get(nameof(NotificationConsumer)).WaitForDistinct(1, Timeout));

        var db = await redis.Database();
        Assert.Equal(1, await db.StreamLengthAsync(redis.Key("queue:notify")));

        var group = Assert.Single(await db.StreamGroupInfoAsync(redis.Key("queue:notify")));
        Assert.Equal("notify", group.Name);
    }

    [Fact]
    public async Task Entry_fields_are_readable_text()
    {
        var redis = await RedisTestContext.Create();

        await using var provider = await redis.StartHarness(_ => { });
        var harness = provider.GetRequiredService<ITestHarness>();

        var endpoint = await harness.Bus.GetSendEndpoint(new Uri("queue:inspect"));
        await endpoint.Send(new AuctionEnded(Guid.NewGuid(), "Clock", 42m), ctx =>
        {
            ctx.Headers.Set("Tenant", "north");
            ctx.CorrelationId = Guid.NewGuid();
        });

        var db = await redis.Database();
        var entry = Assert.Single(await db.StreamRangeAsync(redis.Key("queue:inspect"), "-", "+"));

        foreach (var field in entry.Values)
        {
            var text = (string?)field.Value;
            Assert.NotNull(text);
            Assert.DoesNotContain('\0', text);
            Assert.True(Encoding.UTF8.GetByteCount(text) == ((byte[])field.Value!).Length, $"{field.Name} is UTF-8 text");
        }

        Assert.Equal("north", (string?)entry["Tenant"]);
        Assert.False(entry["CorrelationId"].IsNullOrEmpty);
    }
}
