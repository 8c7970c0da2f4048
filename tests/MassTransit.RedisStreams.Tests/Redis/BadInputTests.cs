namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// Entries written into the transport's streams by something else never block a stream: each goes to <c>_error</c> or
/// <c>_skipped</c> with a header saying why, and the endpoint keeps consuming the entries behind it.
/// </summary>
public class BadInputTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    const int MaxMessageSize = 16 * 1024;

    public static TheoryData<string, string> InvalidEntries => new()
    {
        { "no-body", "has no 'body' field" },
        { "not-json", "is not valid JSON" },
        { "plain-json-said-to-be-an-envelope", "is not a MassTransit envelope" },
        { "malformed-message-id", "The MessageId field 'not-a-guid' is not a GUID" },
        { "malformed-address", "The MT-Response-Address field 'not an address' is not an absolute address" },
        { "invalid-content-type", "is not a valid content type" },
        { "huge", "more than the MaxMessageSize of 16384 bytes" },
        { "binary-garbage", "is not valid JSON" }
    };

    [Theory]
    [MemberData(nameof(InvalidEntries))]
    public async Task An_invalid_entry_goes_to_the_error_stream_with_the_reason_and_the_entries_behind_it_are_consumed(string kind, string reason)
    {
        var redis = await RedisTestContext.Create();
        var logs = new DeliveryLogs();

        await using var provider = await redis.StartHarness(x => x.AddConsumer<NotificationConsumer>().Endpoint(e => e.Name = "inbox"),
            host: h => h.MaxMessageSize = MaxMessageSize, services: s => s.AddSingleton(logs));

        var db = await redis.Database();
        await db.StreamAddAsync(redis.Key("queue:inbox"), CreateInvalidEntry(kind));

        var harness = provider.GetRequiredService<ITestHarness>();
        var behind = Guid.NewGuid();
        await (await harness.Bus.GetSendEndpoint(new Uri("queue:inbox"))).Send(new AuctionEnded(behind, "After the bad one", 1m));

        Assert.True(await logs.Get(nameof(NotificationConsumer)).WaitForDistinct(1, Timeout), "the message behind the bad entry is consumed");
        Assert.Equal(1, logs.Get(nameof(NotificationConsumer)).CountOf(behind.ToString()));

        var errorStream = redis.Key("queue:inbox_error");
        Assert.True(await Eventually.True(async () => await db.StreamLengthAsync(errorStream) == 1, Timeout), "the bad entry is in inbox_error");

        var moved = (await db.StreamRangeAsync(errorStream, "-", "+")).Single();
        Assert.Equal("invalid-entry", (string?)moved[MessageHeaders.Reason]);
        Assert.Contains(reason, (string?)moved[MessageHeaders.FaultMessage], StringComparison.Ordinal);
        Assert.Equal(redis.KeyPrefix + ":queue:inbox", (string?)moved["MT-Redis-Source-Stream"]);

        Assert.True(await Eventually.True(async () => (await db.StreamPendingAsync(redis.Key("queue:inbox"), "inbox")).PendingMessageCount == 0,
            Timeout), "nothing is left pending");
    }

    [Fact]
    public async Task An_envelope_of_a_type_no_consumer_wants_goes_to_the_skipped_stream()
    {
        var redis = await RedisTestContext.Create();
        var logs = new DeliveryLogs();

        await using var provider = await redis.StartHarness(x => x.AddConsumer<NotificationConsumer>().Endpoint(e => e.Name = "inbox"),
            services: s => s.AddSingleton(logs));

        var db = await redis.Database();
        await db.StreamAddAsync(redis.Key("queue:inbox"),
        [
            new NameValueEntry("body", $"{{\"messageId\":\"{Guid.NewGuid()}\",\"messageType\":[\"urn:message:Nowhere:Unknown\"],\"message\":{{\"x\":1}}}}"),
            new NameValueEntry("Content-Type", "application/vnd.masstransit+json")
        ]);

        var skipped = redis.Key("queue:inbox_skipped");
        Assert.True(await Eventually.True(async () => await db.StreamLengthAsync(skipped) == 1, Timeout), "the entry is in inbox_skipped");
        Assert.Equal("dead-letter", (string?)(await db.StreamRangeAsync(skipped, "-", "+")).Single()[MessageHeaders.Reason]);
    }

    [Fact]
    public async Task A_message_above_the_maximum_size_is_refused_at_send_with_a_clear_exception()
    {
        var redis = await RedisTestContext.Create();

        await using var provider = await redis.StartHarness(_ => { }, host: h => h.MaxMessageSize = MaxMessageSize);
        var harness = provider.GetRequiredService<ITestHarness>();

        var endpoint = await harness.Bus.GetSendEndpoint(new Uri("queue:big"));
        var exception = await Assert.ThrowsAsync<TransportException>(() =>
            endpoint.Send(new AuctionEnded(Guid.NewGuid(), new string('x', MaxMessageSize), 1m)));

        Assert.Contains("MaxMessageSize of 16384 bytes", exception.Message, StringComparison.Ordinal);

        var db = await redis.Database();
        Assert.False(await db.KeyExistsAsync(redis.Key("queue:big")), "nothing was appended");
    }

    static NameValueEntry[] CreateInvalidEntry(string kind)
    {
        var envelope = $"{{\"messageId\":\"{Guid.NewGuid()}\",\"messageType\":[\"urn:message:MassTransit.RedisStreams.Tests.Redis:AuctionEnded\"],"
            + $"\"message\":{{\"auctionId\":\"{Guid.NewGuid()}\",\"item\":\"x\",\"amount\":1}}}}";

        return kind switch
        {
            "no-body" => [new NameValueEntry("note", "a field, but no body")],
            "not-json" => [new NameValueEntry("body", "hello, this is not JSON")],
            "plain-json-said-to-be-an-envelope" =>
            [
                new NameValueEntry("body", $"{{\"auctionId\":\"{Guid.NewGuid()}\",\"item\":\"x\"}}"),
                new NameValueEntry("Content-Type", "application/vnd.masstransit+json")
            ],
            "malformed-message-id" => [new NameValueEntry("body", envelope), new NameValueEntry("MessageId", "not-a-guid")],
            "malformed-address" => [new NameValueEntry("body", envelope), new NameValueEntry("MT-Response-Address", "not an address")],
            "invalid-content-type" => [new NameValueEntry("body", envelope), new NameValueEntry("Content-Type", "this is not/a type;;")],
            "huge" => [new NameValueEntry("body", envelope), new NameValueEntry("padding", new string('p', MaxMessageSize))],
            "binary-garbage" =>
            [
                new NameValueEntry("body", new byte[] { 0xFF, 0x00, 0x13, 0x88, 0xC3, 0x28, 0x7B }),
                new NameValueEntry("Content-Type", "application/vnd.masstransit+json")
            ],
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null)
        };
    }
}
