namespace MassTransit.RedisStreams.Tests.Scheduling;

using System;
using System.Text.Json;
using System.Threading.Tasks;
using Contract;
using Infrastructure;
using Redis;
using Xunit;


/// <summary>
/// A message whose time to live has passed when it is read is not delivered: it is dropped (the default, as on RabbitMQ)
/// or moved to the endpoint's <c>_skipped</c> stream, acknowledged either way, and counted.
/// </summary>
public class ExpiryTests
{
    static readonly TimeSpan TimeToLive = TimeSpan.FromMilliseconds(150);

    [Fact]
    public async Task An_expired_message_is_dropped_and_counted()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var bookingId = await SendExpiringThenMarker(redis);

        var received = new Recorder<Guid>();
        var bus = CreateBus(redis, received, moveToSkipped: false, skipped: null);
        await bus.StartAsync();
        try
        {
            Assert.Equal([bookingId.Marker], await received.WaitForCount(1));

            // The endpoint's probe counts them.
            Assert.True(await Eventually.True(() => Probe(bus).Contains("\"expired\":1"), TimeSpan.FromSeconds(10)), Probe(bus));
            Assert.True(await Eventually.True(async () => (await db.StreamPendingAsync(redis.Key("queue:tickets"), "tickets")).PendingMessageCount == 0,
                TimeSpan.FromSeconds(10)), "both entries are acknowledged");
            Assert.False(await db.KeyExistsAsync(redis.Key("queue:tickets_skipped")));
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [Fact]
    public async Task An_expired_message_is_moved_to_the_skipped_stream_when_the_bus_says_so()
    {
        var redis = await RedisTestContext.Create();
        var bookingId = await SendExpiringThenMarker(redis);

        var received = new Recorder<Guid>();
        var skipped = new Recorder<(Guid BookingId, string? Reason)>();
        var bus = CreateBus(redis, received, moveToSkipped: true, skipped);
        await bus.StartAsync();
        try
        {
            var (skippedId, reason) = Assert.Single(await skipped.WaitForCount(1));
            Assert.Equal(bookingId.Expiring, skippedId);
            Assert.Equal("expired", reason);

            Assert.Equal([bookingId.Marker], await received.WaitForCount(1));
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [Fact]
    public async Task The_time_to_live_of_a_delayed_message_counts_from_when_it_is_due()
    {
        var redis = await RedisTestContext.Create();
        var received = new Recorder<Guid>();
        var bus = CreateBus(redis, received, moveToSkipped: false, skipped: null);
        await bus.StartAsync();
        try
        {
            var bookingId = Guid.NewGuid();
            await (await bus.GetSendEndpoint(new Uri("queue:tickets"))).Send(new ReserveSeat(bookingId, 1), x =>
            {
                x.Delay = TimeSpan.FromMilliseconds(500);
                x.TimeToLive = TimeSpan.FromSeconds(5);
            });

            Assert.Equal([bookingId], await received.WaitForCount(1));
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    static string Probe(IBus bus) => JsonSerializer.Serialize(bus.GetProbeResult());

    /// <summary>Sends a message that expires before anyone reads it, then one that does not; returns when the first has expired.</summary>
    static async Task<(Guid Expiring, Guid Marker)> SendExpiringThenMarker(RedisTestContext redis)
    {
        var sender = Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix));
        await sender.StartAsync();
        try
        {
            var endpoint = await sender.GetSendEndpoint(new Uri("queue:tickets"));
            var expiring = Guid.NewGuid();
            var marker = Guid.NewGuid();

            await endpoint.Send(new ReserveSeat(expiring, 1), x => x.TimeToLive = TimeToLive);
            // Its time to live counts from when it was written, before the send returned.
            var sent = DateTime.UtcNow;
            await endpoint.Send(new ReserveSeat(marker, 2));

            // Let the first one's time run out before its endpoint starts reading.
            var left = sent + TimeToLive + TimeSpan.FromMilliseconds(50) - DateTime.UtcNow;
            if (left > TimeSpan.Zero)
                await Task.Delay(left);

            return (expiring, marker);
        }
        finally
        {
            await sender.StopAsync();
        }
    }

    static IBusControl CreateBus(RedisTestContext redis, Recorder<Guid> received, bool moveToSkipped, Recorder<(Guid, string?)>? skipped)
    {
        return Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h =>
            {
                h.KeyPrefix = redis.KeyPrefix;
                h.MoveExpiredToSkipped = moveToSkipped;
            });

            cfg.ReceiveEndpoint("tickets", e => e.Handler<ReserveSeat>(ctx =>
            {
                received.Add(ctx.Message.BookingId);
                return Task.CompletedTask;
            }));

            if (skipped != null)
            {
                cfg.ReceiveEndpoint("tickets_skipped", e =>
                {
                    e.ConfigureConsumeTopology = false;
                    e.Handler<ReserveSeat>(ctx =>
                    {
                        skipped.Add((ctx.Message.BookingId, ctx.ReceiveContext.TransportHeaders.Get<string>(MessageHeaders.Reason)));
                        return Task.CompletedTask;
                    });
                });
            }
        });
    }
}
