namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit;


[EntityName("Bid")]
public record Bid(Guid BidId, int Sequence, string Bidder, decimal Amount, string Note);


/// <summary>
/// The entry format: the message's JSON as the body, the headers as fields, host information stored once per process. It is
/// small, readable with redis-cli, and nothing MassTransit's envelope held is lost.
/// </summary>
public class EntryFormatTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task An_entry_is_the_message_json_and_its_headers_with_the_host_stored_once()
    {
        var redis = await RedisTestContext.Create();
        var received = new ConcurrentQueue<ConsumeContext<Bid>>();

        await using var provider = await redis.StartHarness(x => x.AddHandler<Bid>(context =>
        {
            received.Enqueue(context);
            return Task.CompletedTask;
        }).Endpoint(e => e.Name = "bids"));

        var harness = provider.GetRequiredService<ITestHarness>();
        var bid = new Bid(Guid.NewGuid(), 1, "ada", 12.5m, "first");
        await harness.Bus.Publish(bid, ctx => ctx.Headers.Set("X-Tenant", "north"));

        Assert.True(await Eventually.True(() => Task.FromResult(received.Count == 1), Timeout));
        var context = received.Single();

        var db = await redis.Database();
        var entry = (await db.StreamRangeAsync(redis.Key("events:Bid"), "-", "+")).Single();
        var fields = entry.Values.Select(x => (string)x.Name!).ToArray();

        // Readable: the body is the message, in compact JSON (decimals as strings, as MassTransit writes them); each header is
        // a field of its own, and is there once.
        Assert.Equal($"{{\"bidId\":\"{bid.BidId}\",\"sequence\":1,\"bidder\":\"ada\",\"amount\":\"12.5\",\"note\":\"first\"}}", (string?)entry["body"]);
        Assert.DoesNotContain("Content-Type", fields);
        Assert.DoesNotContain("MT-Source-Address", fields);
        Assert.Equal("north", (string?)entry["X-Tenant"]);
        Assert.Equal(context.MessageId.ToString(), (string?)entry["MessageId"]);
        Assert.Equal(fields.Length, fields.Distinct().Count());

        // The host record is stored once, under the ID the entry names.
        var hostId = (string?)entry["MT-Host"];
        Assert.False(string.IsNullOrEmpty(hostId));
        Assert.Contains("\"machineName\":", (string?)await db.HashGetAsync(redis.Key("hosts"), hostId));

        // Recoverable: what the envelope held comes back from the fields and the host record.
        Assert.Equal(harness.Bus.Address, context.SourceAddress);
        Assert.Equal(new Uri(harness.Bus.Address, "Bid?type=topic"), context.DestinationAddress);
        Assert.Equal(Environment.MachineName, context.Host.MachineName);
        Assert.Equal(Environment.ProcessId, context.Host.ProcessId);
        Assert.NotNull(context.SentTime);
        Assert.InRange(context.SentTime!.Value, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddSeconds(1));
        Assert.Equal("north", context.Headers.Get<string>("X-Tenant"));
        Assert.Contains(context.Headers.GetAll(), x => x.Key == "X-Tenant");
        Assert.DoesNotContain(context.Headers.GetAll(), x => x.Key is "MessageId" or "MT-Host" or "MT-MessageType");
        Assert.Equal(bid, context.Message);
    }

    [Theory]
    [InlineData(100, 400)]
    [InlineData(256, 640)]
    public async Task An_entry_of_a_small_message_takes_little_redis_memory(int messageBytes, int limit)
    {
        var redis = await RedisTestContext.Create();

        await using var provider = await redis.StartHarness(_ => { });
        var harness = provider.GetRequiredService<ITestHarness>();

        const int count = 1000;
        var note = new string('n', messageBytes - 100);
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => harness.Bus.Publish(new Bid(Guid.NewGuid(), i, "bidder-x", 1000m + i, note))));

        var db = await redis.Database();
        var body = (string?)(await db.StreamRangeAsync(redis.Key("events:Bid"), "-", "+", 1)).Single()["body"];
        Assert.InRange(body!.Length, messageBytes - 12, messageBytes + 12);

        var bytes = (long)await db.ExecuteAsync("MEMORY", "USAGE", redis.Key("events:Bid"), "SAMPLES", "0");
        Assert.True(bytes / count <= limit, $"{bytes / count} bytes per entry of a {messageBytes}-byte message, more than {limit}");
    }

    [Fact]
    public async Task Entries_in_the_envelope_format_are_still_read_and_UseJsonSerializer_writes_them()
    {
        var redis = await RedisTestContext.Create();
        var received = new ConcurrentQueue<ConsumeContext<Bid>>();

        await using var provider = await redis.StartHarness(x => x.AddHandler<Bid>(context =>
        {
            received.Enqueue(context);
            return Task.CompletedTask;
        }).Endpoint(e => e.Name = "bids"), (_, cfg) => cfg.UseJsonSerializer());

        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Bus.Publish(new Bid(Guid.NewGuid(), 1, "ada", 1m, "enveloped"), ctx => ctx.Headers.Set("X-Tenant", "south"));

        Assert.True(await Eventually.True(() => Task.FromResult(received.Count == 1), Timeout));
        var context = received.Single();

        var db = await redis.Database();
        var entry = (await db.StreamRangeAsync(redis.Key("events:Bid"), "-", "+")).Single();
        Assert.Equal("application/vnd.masstransit+json", (string?)entry["Content-Type"]);
        Assert.Contains("\"message\":", (string?)entry["body"]);
        Assert.Equal("enveloped", context.Message.Note);

        // A bus that writes the envelope names no host record, so it stores none.
        Assert.False(await db.KeyExistsAsync(redis.Key("hosts")));
        Assert.Equal("south", context.Headers.Get<string>("X-Tenant"));
        Assert.Equal(new Uri(harness.Bus.Address, "Bid?type=topic"), context.DestinationAddress);
        Assert.Equal(Environment.MachineName, context.Host.MachineName);
    }
}
