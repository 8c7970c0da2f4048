namespace MassTransit.RedisStreams.Tests.Scheduling;

using System;
using System.Linq;
using System.Threading.Tasks;
using Contract;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// The transport's own scheduler (<c>AddRedisStreamsMessageScheduler</c>, <c>UseRedisStreamsMessageScheduler</c>): scheduled
/// messages wait in Redis beside their stream and can be cancelled there, from the container, from consumers and from sagas.
/// </summary>
public class TransportSchedulerTests
{
    const string Endpoint = "reserve-seat";
    const string SeatReleasedStream = "events:MassTransit.RedisStreams.Tests.Contract:SeatReleased";
    static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(600);

    [Fact]
    public async Task A_scheduled_send_waits_in_Redis_and_arrives_when_due()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        await using var provider = await StartSeatEndpoint(redis);
        var deliveries = provider.GetRequiredService<Recorder<Delivery>>();

        await using var scope = provider.CreateAsyncScope();
        var scheduler = scope.ServiceProvider.GetRequiredService<IMessageScheduler>();

        var bookingId = Guid.NewGuid();
        var sent = DateTime.UtcNow;
        var scheduled = await scheduler.ScheduleSend(new Uri($"queue:{Endpoint}"), sent + Delay, new ReserveSeat(bookingId, 1));

        Assert.Equal(1, await db.SortedSetLengthAsync(Delayed(redis, "queue:" + Endpoint)));
        Assert.Equal(redis.Key("queue:" + Endpoint).ToString(), (string?)await db.HashGetAsync(redis.Key("scheduled-tokens"), scheduled.TokenId.ToString("D")));

        var delivery = Assert.Single(await deliveries.WaitForCount(1));
        Assert.Equal(bookingId, delivery.BookingId);
        Assert.True(delivery.At - sent >= Delay - TimeSpan.FromMilliseconds(30));

        Assert.Equal(0, await db.SortedSetLengthAsync(Delayed(redis, "queue:" + Endpoint)));
        Assert.Equal(0, await db.HashLengthAsync(DelayedEntries(redis, "queue:" + Endpoint)));
        Assert.False(await db.HashExistsAsync(redis.Key("scheduled-tokens"), scheduled.TokenId.ToString("D")));
    }

    [Fact]
    public async Task A_cancelled_scheduled_send_is_removed_from_Redis_and_never_arrives()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        await using var provider = await StartSeatEndpoint(redis);
        var deliveries = provider.GetRequiredService<Recorder<Delivery>>();

        await using var scope = provider.CreateAsyncScope();
        var scheduler = scope.ServiceProvider.GetRequiredService<IMessageScheduler>();
        var address = new Uri($"queue:{Endpoint}");

        var cancelled = await scheduler.ScheduleSend(address, DateTime.UtcNow + Delay, new ReserveSeat(Guid.NewGuid(), 1));
        var cancelledByToken = await scheduler.ScheduleSend(address, DateTime.UtcNow + Delay, new ReserveSeat(Guid.NewGuid(), 2));
        Assert.Equal(2, await db.SortedSetLengthAsync(Delayed(redis, "queue:" + Endpoint)));

        await scheduler.CancelScheduledSend(address, cancelled.TokenId);
        await scheduler.CancelScheduledSend(cancelledByToken);

        Assert.Equal(0, await db.SortedSetLengthAsync(Delayed(redis, "queue:" + Endpoint)));
        Assert.Equal(0, await db.HashLengthAsync(DelayedEntries(redis, "queue:" + Endpoint)));
        Assert.Equal(0, await db.HashLengthAsync(redis.Key("scheduled-tokens")));

        // A message scheduled after them, for later than they were due, arrives alone.
        var probe = Guid.NewGuid();
        await scheduler.ScheduleSend(address, DateTime.UtcNow + Delay + TimeSpan.FromMilliseconds(100), new ReserveSeat(probe, 3));

        var delivery = Assert.Single(await deliveries.WaitForCount(1));
        Assert.Equal(probe, delivery.BookingId);

        // Cancelling what is gone is harmless.
        await scheduler.CancelScheduledSend(address, cancelled.TokenId);
    }

    [Fact]
    public async Task A_scheduled_publish_reaches_every_subscriber_and_can_be_cancelled()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        await using var provider = await redis.StartHarness(x => x.AddRedisStreamsMessageScheduler(), (context, cfg) =>
        {
            cfg.UseRedisStreamsMessageScheduler();
            var released = context.GetRequiredService<Recorder<Delivery>>();
            foreach (var name in new[] { "seat-map", "seat-billing" })
            {
                cfg.ReceiveEndpoint(name, e => e.Handler<SeatReleased>(ctx =>
                {
                    released.Add(new Delivery(ctx.Message.BookingId, 0, DateTime.UtcNow));
                    return Task.CompletedTask;
                }));
            }
        }, services: services => services.AddSingleton<Recorder<Delivery>>());
        var deliveries = provider.GetRequiredService<Recorder<Delivery>>();

        await using var scope = provider.CreateAsyncScope();
        var scheduler = scope.ServiceProvider.GetRequiredService<IMessageScheduler>();

        var cancelled = await scheduler.SchedulePublish(DateTime.UtcNow + Delay, new SeatReleased(Guid.NewGuid()));
        var kept = Guid.NewGuid();
        await scheduler.SchedulePublish(DateTime.UtcNow + Delay + TimeSpan.FromMilliseconds(100), new SeatReleased(kept));
        Assert.Equal(2, await db.SortedSetLengthAsync(Delayed(redis, SeatReleasedStream)));

        await scheduler.CancelScheduledPublish<SeatReleased>(cancelled.TokenId);
        Assert.Equal(1, await db.SortedSetLengthAsync(Delayed(redis, SeatReleasedStream)));

        var seen = await deliveries.WaitForCount(2);
        Assert.All(seen, x => Assert.Equal(kept, x.BookingId));
    }

    [Fact]
    public async Task A_consumer_schedules_with_the_transport_scheduler_through_its_context()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        await using var provider = await redis.StartHarness(x => x.AddRedisStreamsMessageScheduler(), (context, cfg) =>
        {
            cfg.UseRedisStreamsMessageScheduler();
            var deliveries = context.GetRequiredService<Recorder<Delivery>>();
            cfg.ReceiveEndpoint("seat-release-requests", e => e.Handler<ReserveSeat>(async ctx =>
            {
                // Hold the seat for a while, then release it — unless the booking is cancelled (seat 0).
                var release = await ctx.SchedulePublish(Delay, new SeatReleased(ctx.Message.BookingId));
                if (ctx.Message.Seat == 0)
                    await ctx.CancelScheduledSend(release);
            }));
            cfg.ReceiveEndpoint("seat-released", e => e.Handler<SeatReleased>(ctx =>
            {
                deliveries.Add(new Delivery(ctx.Message.BookingId, 0, DateTime.UtcNow));
                return Task.CompletedTask;
            }));
        }, services: services => services.AddSingleton<Recorder<Delivery>>());
        var harness = provider.GetRequiredService<ITestHarness>();
        var deliveries = provider.GetRequiredService<Recorder<Delivery>>();

        var cancelled = Guid.NewGuid();
        var released = Guid.NewGuid();
        var endpoint = await harness.Bus.GetSendEndpoint(new Uri("queue:seat-release-requests"));
        await endpoint.Send(new ReserveSeat(cancelled, 0));
        await endpoint.Send(new ReserveSeat(released, 5));

        var delivery = Assert.Single(await deliveries.WaitForCount(1));
        Assert.Equal(released, delivery.BookingId);
        Assert.Equal(0, await db.SortedSetLengthAsync(Delayed(redis, SeatReleasedStream)));
    }

    [Fact]
    public async Task Scheduled_redelivery_with_the_transport_scheduler_raises_the_redelivery_count()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await redis.StartHarness(x => x.AddRedisStreamsMessageScheduler(), (context, cfg) =>
        {
            cfg.UseRedisStreamsMessageScheduler();
            var deliveries = context.GetRequiredService<Recorder<Delivery>>();
            cfg.ReceiveEndpoint(Endpoint, e =>
            {
                e.UseScheduledRedelivery(r => r.Intervals(100, 200));
                e.Handler<ReserveSeat>(ctx =>
                {
                    deliveries.Add(new Delivery(ctx.Message.BookingId, ctx.GetRedeliveryCount(), DateTime.UtcNow));
                    return ctx.GetRedeliveryCount() < 2 ? throw new InvalidOperationException("Seat map busy") : Task.CompletedTask;
                });
            });
        }, services: services => services.AddSingleton<Recorder<Delivery>>());
        var harness = provider.GetRequiredService<ITestHarness>();
        var deliveries = provider.GetRequiredService<Recorder<Delivery>>();

        await (await harness.Bus.GetSendEndpoint(new Uri($"queue:{Endpoint}"))).Send(new ReserveSeat(Guid.NewGuid(), 8));

        var seen = await deliveries.WaitForCount(3);
        Assert.Equal([0, 1, 2], seen.Select(x => x.RedeliveryCount));
        Assert.True(seen[2].At - seen[1].At >= TimeSpan.FromMilliseconds(170));
    }

    [Fact]
    public async Task A_saga_unschedule_removes_the_scheduled_message_from_Redis()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        await using var provider = await redis.StartHarness(x =>
            {
                x.AddRedisStreamsMessageScheduler();
                x.AddSagaStateMachine<SeatHoldStateMachine, SeatHold>().InMemoryRepository();
            },
            (_, cfg) => cfg.UseRedisStreamsMessageScheduler());
        var harness = provider.GetRequiredService<ITestHarness>();
        var saga = harness.GetSagaStateMachineHarness<SeatHoldStateMachine, SeatHold>();

        // The saga's endpoint is its queue; the expiry is scheduled to it.
        var queue = "queue:SeatHold";

        var confirmed = Guid.NewGuid();
        await harness.Bus.Publish(new SeatHoldRequested(confirmed));
        Assert.Equal(confirmed, await saga.Exists(confirmed, x => x.Held));
        Assert.Equal(1, await db.SortedSetLengthAsync(Delayed(redis, queue)));

        await harness.Bus.Publish(new SeatHoldConfirmed(confirmed));
        Assert.Equal(confirmed, await saga.Exists(confirmed, x => x.Booked));
        Assert.Equal(0, await db.SortedSetLengthAsync(Delayed(redis, queue)));

        var expiring = Guid.NewGuid();
        await harness.Bus.Publish(new SeatHoldRequested(expiring));
        Assert.Equal(expiring, await saga.Exists(expiring, x => x.Expired));

        // Only the expiry that was left to fire was ever delivered.
        Assert.Equal(1, await db.StreamLengthAsync(redis.Key(queue)));
        Assert.NotNull(saga.Sagas.ContainsInState(confirmed, saga.StateMachine, x => x.Booked));
    }

    [Fact]
    public async Task Stream_info_and_the_overview_count_the_scheduled_messages_and_give_the_next_due_time()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await redis.StartHarness(x => x.AddRedisStreamsMessageScheduler());
        var history = provider.GetRequiredService<IRedisStreamsEventHistory>();

        await using var scope = provider.CreateAsyncScope();
        var scheduler = scope.ServiceProvider.GetRequiredService<IMessageScheduler>();

        var first = DateTime.UtcNow.AddHours(1);
        await scheduler.SchedulePublish(first.AddMinutes(5), new SeatReleased(Guid.NewGuid()));
        await scheduler.SchedulePublish(first, new SeatReleased(Guid.NewGuid()));
        await scheduler.ScheduleSend(new Uri("queue:seat-audit"), first, new ReserveSeat(Guid.NewGuid(), 1));

        // Nothing was appended yet: the event stream does not exist, and still has messages coming.
        var info = await history.GetStreamInfo<SeatReleased>();
        Assert.False(info.Exists);
        Assert.Equal(2, info.ScheduledCount);
        Assert.NotNull(info.NextScheduledTime);
        // MassTransit hands the transport a delay, not a time: the due time is the send's clock plus the delay, a little
        // after the time asked for, by however long the send took to get there (and at most a millisecond before, by rounding).
        Assert.InRange(info.NextScheduledTime.Value - new DateTimeOffset(first), TimeSpan.FromMilliseconds(-1), TimeSpan.FromSeconds(1));

        var overview = await history.GetOverview();
        Assert.Equal(2, Assert.Single(overview, x => x.StreamKey == redis.Key(SeatReleasedStream).ToString()).ScheduledCount);
        var audit = Assert.Single(overview, x => x.Name == "seat-audit");
        Assert.Equal(RedisStreamsStreamKind.Queue, audit.Kind);
        Assert.Equal(1, audit.ScheduledCount);
    }

    [Fact]
    public async Task UseRedisStreamsMessageScheduler_on_another_transport_is_a_configuration_error()
    {
        var exception = Assert.ThrowsAny<Exception>(() => Bus.Factory.CreateUsingInMemory(cfg => cfg.UseRedisStreamsMessageScheduler()));

        Assert.Contains("UsingRedisStreams", exception.ToString());
        await Task.CompletedTask;
    }

    static RedisKey Delayed(RedisTestContext redis, string stream) => redis.Beside(stream, "delayed");

    static RedisKey DelayedEntries(RedisTestContext redis, string stream) => redis.Beside(stream, "delayed-entries");

    static Task<ServiceProvider> StartSeatEndpoint(RedisTestContext redis)
    {
        return redis.StartHarness(x => x.AddRedisStreamsMessageScheduler(), (context, cfg) =>
        {
            cfg.UseRedisStreamsMessageScheduler();
            var deliveries = context.GetRequiredService<Recorder<Delivery>>();
            cfg.ReceiveEndpoint(Endpoint, e => e.Handler<ReserveSeat>(ctx =>
            {
                deliveries.Add(new Delivery(ctx.Message.BookingId, ctx.GetRedeliveryCount(), DateTime.UtcNow));
                return Task.CompletedTask;
            }));
        }, services: services => services.AddSingleton<Recorder<Delivery>>());
    }
}
