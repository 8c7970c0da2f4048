namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Diagnostics;
using RedisStreams.Redis;
using System.Linq;
using System.Threading.Tasks;
using Contract;
using Infrastructure;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// A message sent again — by the transport's own retry after a timeout, or by the application with the same MessageId — is
/// appended once within the duplicate detection window; a message that differs (a redelivery, other headers) is not a
/// duplicate.
/// </summary>
public class DuplicateDetectionTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// What the transport's retry does when a timeout or a failover hid whether an append was written: it appends the same
    /// entry again. The stream has it, so it is not appended twice, and the caller is told so.
    /// </summary>
    [Fact]
    public async Task An_append_of_the_same_entry_again_is_not_appended_twice()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var client = new RedisGateway(new RedisConnection(db.Multiplexer, observe: false), new StreamKeys(redis.KeyPrefix),
            new AppendOptions(0, TimeSpan.Zero, TimeSpan.FromMinutes(1))).Appends;
        var stream = redis.Key("queue:ledger");
        var entry = new NewEntry();
        entry.Add("body", "{\"lot\":1}");
        entry.Add("MessageId", "1d0b0000-ebcf-e18a-8149-08df4ecc8b14");
        entry.SetDuplicateKey(Guid.Parse("1d0b0000-ebcf-e18a-8149-08df4ecc8b14"));

        var first = await client.Append(stream, entry, onlyIfStreamExists: false);
        var again = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => client.Append(stream, entry, onlyIfStreamExists: false)));

        Assert.NotEqual(StreamAppends.Duplicate, first);
        Assert.All(again, x => Assert.Equal(StreamAppends.Duplicate, x));
        Assert.Equal(first, Assert.Single(await db.StreamRangeAsync(stream)).Id.ToString());

        // An entry that was not appended (its stream had to exist and did not) is not remembered: sent again, it is appended.
        var reply = redis.Key("queue:reply");
        Assert.Null(await client.Append(reply, entry, onlyIfStreamExists: true));
        await db.StreamAddAsync(reply, "body", "{}");
        Assert.NotEqual(StreamAppends.Duplicate, await client.Append(reply, entry, onlyIfStreamExists: true));
        Assert.Equal(2, await db.StreamLengthAsync(reply));

        // Without a window the same entry is appended each time.
        var plain = new RedisGateway(new RedisConnection(db.Multiplexer, observe: false), new StreamKeys(redis.KeyPrefix)).Appends;
        await plain.Append(stream, entry, onlyIfStreamExists: false);
        Assert.Equal(2, await db.StreamLengthAsync(stream));
    }

    /// <summary>Keeps Redis busy for ARGV[1] milliseconds: no other client's command is read meanwhile.</summary>
    const string BusyScript = """
        local s = redis.call('TIME')
        local start = s[1] * 1000000 + s[2]
        while true do
          local t = redis.call('TIME')
          if t[1] * 1000000 + t[2] - start > tonumber(ARGV[1]) * 1000 then
            return 1
          end
        end
        """;

    /// <summary>
    /// Redis is busy for longer than the client waits for a reply: the append times out while it waits, the transport tries
    /// again, and when Redis is free it runs every attempt. Only the first is appended.
    /// </summary>
    [RedisServerFact]
    public async Task A_send_retried_after_a_timeout_is_appended_once()
    {
        var (entries, deliveries) = await SendThroughPausedRedis(TimeSpan.FromMinutes(1));

        Assert.Equal(1, entries);
        Assert.Equal(1, deliveries);
    }

    /// <summary>The same run without duplicate detection appends every attempt: what the detection prevents.</summary>
    [RedisServerFact]
    public async Task Without_duplicate_detection_a_send_retried_after_a_timeout_is_appended_again()
    {
        var (entries, deliveries) = await SendThroughPausedRedis(TimeSpan.Zero);

        Assert.True(entries > 1, $"{entries} entries");
        Assert.Equal(entries, deliveries);
    }

    static async Task<(long Entries, int Deliveries)> SendThroughPausedRedis(TimeSpan window)
    {
        using var server = RedisServerProcess.Start(appendOnly: false);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true");
        var received = new Recorder<Guid>();
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            // The client gives up on a reply after 250 ms (noticed within a second); the send keeps trying for SendTimeout.
            var options = ConfigurationOptions.Parse(server.ConnectionString);
            options.AsyncTimeout = 250;
            cfg.Host(options, h =>
            {
                h.KeyPrefix = "dup";
                h.DuplicateDetectionWindow = window;
            });
            cfg.ReceiveEndpoint("ledger", e => e.Handler<Bid>(context =>
            {
                received.Add(context.Message.BidId);
                return Task.CompletedTask;
            }));
        });

        await bus.StartAsync().WaitAsync(Timeout);
        try
        {
            var endpoint = await bus.GetSendEndpoint(new Uri("queue:ledger"));
            var warmUp = new Bid(Guid.NewGuid(), 0, "ann", 1m, "before the pause");
            await endpoint.Send(warmUp);
            await received.WaitForCount(1);

            var bid = new Bid(Guid.NewGuid(), 1, "ann", 10m, "paused");
            // A script of another client keeps Redis busy for 2.5 s: the append waits unread in the socket, times out, and is
            // sent again (the client library even reconnects); when Redis is free it reads and runs every attempt it got.
            await using var probe = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
            var busy = admin.GetDatabase().ScriptEvaluateAsync(BusyScript, null, [2500]);
            Assert.True(await Eventually.True(async () =>
            {
                var ping = probe.GetDatabase().PingAsync();
                return await Task.WhenAny(ping, Task.Delay(200)) != ping;
            }, Timeout), "Redis is busy");
            await endpoint.Send(bid).WaitAsync(Timeout);
            await busy;

            // Redis ran every attempt when it resumed, before the one whose reply came: the stream has them all by now (the
            // queue is trimmed to what was acknowledged, so count what the endpoint read once it has read and handled all).
            var db = admin.GetDatabase();
            Assert.True(await Eventually.True(async () => (await db.StreamGroupInfoAsync("dup:queue:ledger"))
                .Single(x => x.Name == "ledger") is { PendingMessageCount: 0, Lag: 0 }, Timeout), "the endpoint has handled everything");
            var entries = received.Items.Count - 1;
            Assert.All(received.Items.Skip(1), x => Assert.Equal(bid.BidId, x));
            return (entries, entries);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [Fact]
    public async Task The_same_message_sent_or_published_again_is_appended_once_and_a_different_one_is_not_a_duplicate()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix));
        await bus.StartAsync().WaitAsync(Timeout);
        try
        {
            var endpoint = await bus.GetSendEndpoint(new Uri("queue:ledger"));
            var messageId = NewId.NextGuid();
            var bid = new Bid(Guid.NewGuid(), 1, "ann", 10m, "once");

            await endpoint.Send(bid, x => x.MessageId = messageId);
            await endpoint.Send(bid, x => x.MessageId = messageId);
            Assert.Equal(1, await db.StreamLengthAsync(redis.Key("queue:ledger")));

            // The same MessageId with other content or other headers (as a redelivery has) is another message.
            await endpoint.Send(bid with { Amount = 11m }, x => x.MessageId = messageId);
            await endpoint.Send(bid, x =>
            {
                x.MessageId = messageId;
                x.Headers.Set(MessageHeaders.RedeliveryCount, 1);
            });
            Assert.Equal(3, await db.StreamLengthAsync(redis.Key("queue:ledger")));

            // So is a message of another type whose body is the same.
            await endpoint.Send(new BidCopy(bid.BidId, bid.Sequence, bid.Bidder, bid.Amount, bid.Note), x => x.MessageId = messageId);
            Assert.Equal(4, await db.StreamLengthAsync(redis.Key("queue:ledger")));

            // Messages that MassTransit gives a MessageId of their own are never duplicates of each other.
            await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => endpoint.Send(bid)));
            Assert.Equal(104, await db.StreamLengthAsync(redis.Key("queue:ledger")));

            var eventId = NewId.NextGuid();
            await bus.Publish(new AuctionEnded(Guid.NewGuid(), "Lamp", 10m), x => x.MessageId = eventId);
            await bus.Publish(new AuctionEnded(Guid.NewGuid(), "Lamp", 10m), x => x.MessageId = eventId);
            var published = new AuctionEnded(Guid.NewGuid(), "Vase", 12m);
            await bus.Publish(published, x => x.MessageId = eventId);
            await bus.Publish(published, x => x.MessageId = eventId);
            Assert.Equal(3, await db.StreamLengthAsync(redis.Key("events:AuctionEnded")));

            // What the stream remembers lives beside it, one set per window, and ends two windows after its last addition.
            var server = db.Multiplexer.GetServers()[0];
            var sent = await server.KeysAsync(pattern: redis.Beside("queue:ledger", "sent:*").ToString()).ToArrayAsync();
            Assert.InRange(sent.Length, 1, 2);
            long remembered = 0;
            foreach (var key in sent)
            {
                remembered += await db.SetLengthAsync(key);
                Assert.InRange((await db.KeyTimeToLiveAsync(key))!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(2));
            }

            Assert.Equal(104, remembered);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [Fact]
    public async Task A_message_is_a_duplicate_within_the_window_only()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(redis.ConnectionString, h =>
        {
            h.KeyPrefix = redis.KeyPrefix;
            h.DuplicateDetectionWindow = TimeSpan.FromSeconds(1);
        }));
        await bus.StartAsync().WaitAsync(Timeout);
        try
        {
            var endpoint = await bus.GetSendEndpoint(new Uri("queue:ledger"));
            var messageId = NewId.NextGuid();
            var bid = new Bid(Guid.NewGuid(), 1, "ann", 10m, "window");

            var watch = Stopwatch.StartNew();
            await endpoint.Send(bid, x => x.MessageId = messageId);

            // Sent again and again, it is appended a second time once the window has passed, not before.
            Assert.True(await Eventually.True(async () =>
            {
                await endpoint.Send(bid, x => x.MessageId = messageId);
                return await db.StreamLengthAsync(redis.Key("queue:ledger")) == 2;
            }, Timeout), "appended again after the window");

            Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(990), $"appended again after {watch.Elapsed}");
        }
        finally
        {
            await bus.StopAsync();
        }
    }
}


public record BidCopy(Guid BidId, int Sequence, string Bidder, decimal Amount, string Note);
