namespace MassTransit.RedisStreams.Tests.Contract;

using System;
using System.Linq;
using System.Threading.Tasks;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


public record ReserveSeat(Guid BookingId, int Seat);


public record SeatReleased(Guid BookingId);


/// <summary>A message with a default constructor, as MassTransit's message initializers need.</summary>
public class SeatHoldNotice
{
    public Guid BookingId { get; set; }
}


/// <summary>What a handler saw of one delivery: which booking, its redelivery count, and when.</summary>
public record Delivery(Guid BookingId, int RedeliveryCount, DateTime At);


/// <summary>
/// Time as MassTransit applications use it: delayed send and publish, delayed and scheduled redelivery with their counts,
/// <c>Defer</c>, the harness's default scheduler, and saga schedules that fire or are unscheduled.
/// </summary>
public abstract class TimeContract<TBinding>
    where TBinding : ITransportBinding, new()
{
    const string Endpoint = "reserve-seat";
    static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(500);

    // Timers on either side may round a little; a message must never arrive noticeably early.
    static readonly TimeSpan Early = TimeSpan.FromMilliseconds(30);

    protected TBinding Binding { get; } = new();

    [Fact]
    public async Task A_delayed_send_arrives_after_its_delay()
    {
        await using var provider = await StartEndpoint(e => { }, (_, _) => Task.CompletedTask);
        var harness = provider.GetRequiredService<ITestHarness>();
        var deliveries = provider.GetRequiredService<Recorder<Delivery>>();

        var bookingId = Guid.NewGuid();
        var sent = DateTime.UtcNow;
        await (await harness.Bus.GetSendEndpoint(new Uri($"queue:{Endpoint}"))).Send(new ReserveSeat(bookingId, 1), x => x.Delay = Delay);

        var delivery = Assert.Single(await deliveries.WaitForCount(1));
        Assert.Equal(bookingId, delivery.BookingId);
        Assert.True(delivery.At - sent >= Delay - Early, $"Arrived {(delivery.At - sent).TotalMilliseconds:F0} ms after the send");
    }

    [Fact]
    public async Task A_delayed_publish_arrives_after_its_delay()
    {
        await using var provider = await Binding.StartHarness(_ => { }, (context, cfg) =>
        {
            var released = context.GetRequiredService<Recorder<Delivery>>();
            cfg.ReceiveEndpoint("seat-released", e => e.Handler<SeatReleased>(ctx =>
            {
                released.Add(new Delivery(ctx.Message.BookingId, ctx.GetRedeliveryCount(), DateTime.UtcNow));
                return Task.CompletedTask;
            }));
        }, services => services.AddSingleton<Recorder<Delivery>>());
        var harness = provider.GetRequiredService<ITestHarness>();
        var deliveries = provider.GetRequiredService<Recorder<Delivery>>();

        var bookingId = Guid.NewGuid();
        var sent = DateTime.UtcNow;
        await harness.Bus.Publish(new SeatReleased(bookingId), x => x.Delay = Delay);

        var delivery = Assert.Single(await deliveries.WaitForCount(1));
        Assert.Equal(bookingId, delivery.BookingId);
        Assert.True(delivery.At - sent >= Delay - Early, $"Arrived {(delivery.At - sent).TotalMilliseconds:F0} ms after the publish");
    }

    [Fact]
    public async Task Delayed_redelivery_delivers_again_with_a_rising_redelivery_count_until_the_consumer_succeeds()
    {
        await using var provider = await StartEndpoint(e => e.UseDelayedRedelivery(r => r.Intervals(100, 200)),
            (ctx, _) => ctx.GetRedeliveryCount() < 2 ? throw new InvalidOperationException("Seat map busy") : Task.CompletedTask);
        var harness = provider.GetRequiredService<ITestHarness>();
        var deliveries = provider.GetRequiredService<Recorder<Delivery>>();

        await (await harness.Bus.GetSendEndpoint(new Uri($"queue:{Endpoint}"))).Send(new ReserveSeat(Guid.NewGuid(), 7));

        var seen = await deliveries.WaitForCount(3);
        Assert.Equal([0, 1, 2], seen.Select(x => x.RedeliveryCount));
        Assert.True(seen[1].At - seen[0].At >= TimeSpan.FromMilliseconds(100) - Early);
        Assert.True(seen[2].At - seen[1].At >= TimeSpan.FromMilliseconds(200) - Early);

        Assert.True(await harness.Consumed.Any<ReserveSeat>(x => x.Exception == null));
        Assert.False(await harness.Published.Any<Fault<ReserveSeat>>());
    }

    [Fact]
    public async Task After_the_last_delayed_redelivery_the_message_reaches_the_error_queue_and_a_fault_is_published()
    {
        await using var provider = await StartEndpoint(e => e.UseDelayedRedelivery(r => r.Intervals(50, 100)),
            (_, _) => throw new InvalidOperationException("No such seat"), withErrorQueue: true);
        var harness = provider.GetRequiredService<ITestHarness>();
        var deliveries = provider.GetRequiredService<Recorder<Delivery>>();
        var errors = provider.GetRequiredService<Recorder<ErrorEntry>>();

        var bookingId = Guid.NewGuid();
        await (await harness.Bus.GetSendEndpoint(new Uri($"queue:{Endpoint}"))).Send(new ReserveSeat(bookingId, 99));

        var error = Assert.Single(await errors.WaitForCount(1));
        Assert.Equal(bookingId, error.BookingId);
        Assert.Equal("No such seat", error.ExceptionMessage);

        Assert.Equal([0, 1, 2], deliveries.Items.Select(x => x.RedeliveryCount));
        Assert.True(await harness.Published.Any<Fault<ReserveSeat>>(x => x.Context.Message.Message.BookingId == bookingId));
    }

    [Fact]
    public async Task Each_delayed_redelivery_is_retried_and_the_fault_goes_to_the_fault_address()
    {
        await using var provider = await Binding.StartHarness(_ => { }, (context, cfg) =>
        {
            var deliveries = context.GetRequiredService<Recorder<Delivery>>();
            var faults = context.GetRequiredService<Recorder<ErrorEntry>>();
            cfg.ReceiveEndpoint(Endpoint, e =>
            {
                e.ConfigureConsumeTopology = false;
                e.Handler<ReserveSeat>(ctx =>
                {
                    deliveries.Add(new Delivery(ctx.Message.BookingId, ctx.GetRedeliveryCount(), DateTime.UtcNow));
                    throw new InvalidOperationException("Seat map gone");
                }, h =>
                {
                    h.UseDelayedRedelivery(r => r.Intervals(100));
                    h.UseMessageRetry(r => r.Immediate(2));
                });
            });
            cfg.ReceiveEndpoint("seat-faults", e =>
            {
                e.ConfigureConsumeTopology = false;
                e.Handler<Fault<ReserveSeat>>(ctx =>
                {
                    faults.Add(new ErrorEntry(ctx.Message.Message.BookingId, ctx.Message.Exceptions[0].Message));
                    return Task.CompletedTask;
                });
            });
        }, services =>
        {
            services.AddSingleton<Recorder<Delivery>>();
            services.AddSingleton<Recorder<ErrorEntry>>();
        });
        var harness = provider.GetRequiredService<ITestHarness>();
        var deliveries = provider.GetRequiredService<Recorder<Delivery>>();
        var faults = provider.GetRequiredService<Recorder<ErrorEntry>>();

        var bookingId = Guid.NewGuid();
        await (await harness.Bus.GetSendEndpoint(new Uri($"queue:{Endpoint}"))).Send(new ReserveSeat(bookingId, 2),
            x => x.FaultAddress = new Uri("queue:seat-faults"));

        var fault = Assert.Single(await faults.WaitForCount(1));
        Assert.Equal(bookingId, fault.BookingId);
        Assert.Equal("Seat map gone", fault.ExceptionMessage);

        // Three attempts (one and two retries) in each of two deliveries.
        Assert.Equal([0, 0, 0, 1, 1, 1], deliveries.Items.Select(x => x.RedeliveryCount));
    }

    [Fact]
    public async Task Delayed_redelivery_with_no_intervals_faults_at_once()
    {
        await using var provider = await StartEndpoint(e => e.UseDelayedRedelivery(r => r.None()),
            (_, _) => throw new InvalidOperationException("No such seat"), withErrorQueue: true);
        var harness = provider.GetRequiredService<ITestHarness>();
        var deliveries = provider.GetRequiredService<Recorder<Delivery>>();
        var errors = provider.GetRequiredService<Recorder<ErrorEntry>>();

        await (await harness.Bus.GetSendEndpoint(new Uri($"queue:{Endpoint}"))).Send(new ReserveSeat(Guid.NewGuid(), 1));

        Assert.Single(await errors.WaitForCount(1));
        Assert.Single(deliveries.Items);
    }

    [Fact]
    public async Task Scheduled_redelivery_through_the_delayed_message_scheduler_raises_the_redelivery_count()
    {
        await using var provider = await StartEndpoint(e => e.UseScheduledRedelivery(r => r.Intervals(100, 200)),
            (ctx, _) => ctx.GetRedeliveryCount() < 2 ? throw new InvalidOperationException("Seat map busy") : Task.CompletedTask,
            configureBus: cfg => cfg.UseDelayedMessageScheduler());
        var harness = provider.GetRequiredService<ITestHarness>();
        var deliveries = provider.GetRequiredService<Recorder<Delivery>>();

        await (await harness.Bus.GetSendEndpoint(new Uri($"queue:{Endpoint}"))).Send(new ReserveSeat(Guid.NewGuid(), 3));

        var seen = await deliveries.WaitForCount(3);
        Assert.Equal([0, 1, 2], seen.Select(x => x.RedeliveryCount));
        Assert.True(seen[2].At - seen[1].At >= TimeSpan.FromMilliseconds(200) - Early);
        Assert.False(await harness.Published.Any<Fault<ReserveSeat>>());
    }

    [Fact]
    public async Task Defer_delivers_the_message_again_after_the_delay()
    {
        var markers = new Recorder<string?>();
        await using var provider = await StartEndpoint(e => { }, async (ctx, _) =>
        {
            markers.Add(ctx.Headers.Get<string>("Deferred-By"));
            if (ctx.GetRedeliveryCount() == 0)
                await ctx.Defer(Delay, (_, send) => send.Headers.Set("Deferred-By", "seat-map"));
        });
        var harness = provider.GetRequiredService<ITestHarness>();
        var deliveries = provider.GetRequiredService<Recorder<Delivery>>();

        var bookingId = Guid.NewGuid();
        await (await harness.Bus.GetSendEndpoint(new Uri($"queue:{Endpoint}"))).Send(new ReserveSeat(bookingId, 12));

        var seen = await deliveries.WaitForCount(2);
        Assert.All(seen, x => Assert.Equal(bookingId, x.BookingId));
        Assert.Equal([0, 1], seen.Select(x => x.RedeliveryCount));
        Assert.True(seen[1].At - seen[0].At >= Delay - Early, $"Again after {(seen[1].At - seen[0].At).TotalMilliseconds:F0} ms");

        // The callback shaped the deferred message.
        Assert.Equal([null, "seat-map"], markers.Items);
    }

    [Fact]
    public async Task The_test_harness_default_scheduler_schedules_a_send()
    {
        await using var provider = await StartEndpoint(e => { }, (_, _) => Task.CompletedTask);
        var deliveries = provider.GetRequiredService<Recorder<Delivery>>();

        // AddMassTransitTestHarness registers MassTransit's delayed message scheduler when the application registered none.
        await using var scope = provider.CreateAsyncScope();
        var scheduler = scope.ServiceProvider.GetRequiredService<IMessageScheduler>();

        var bookingId = Guid.NewGuid();
        var sent = DateTime.UtcNow;
        await scheduler.ScheduleSend(new Uri($"queue:{Endpoint}"), sent + Delay, new ReserveSeat(bookingId, 4));

        var delivery = Assert.Single(await deliveries.WaitForCount(1));
        Assert.Equal(bookingId, delivery.BookingId);
        Assert.True(delivery.At - sent >= Delay - Early);
    }

    [Fact]
    public async Task A_consumer_schedules_a_send_to_its_own_endpoint_and_a_publish_with_headers()
    {
        await using var provider = await Binding.StartHarness(_ => { }, (context, cfg) =>
        {
            cfg.UseDelayedMessageScheduler();
            var deliveries = context.GetRequiredService<Recorder<Delivery>>();
            var released = context.GetRequiredService<Recorder<string?>>();
            cfg.ReceiveEndpoint(Endpoint, e =>
            {
                e.Handler<ReserveSeat>(async ctx =>
                {
                    deliveries.Add(new Delivery(ctx.Message.BookingId, ctx.GetRedeliveryCount(), DateTime.UtcNow));
                    if (ctx.Message.Seat > 0)
                    {
                        // Local time, as applications write it, and an initializer with a header.
                        await ctx.ScheduleSend(DateTime.Now + Delay, new ReserveSeat(ctx.Message.BookingId, 0));
                        await ctx.SchedulePublish<SeatHoldNotice>(Delay, new { ctx.Message.BookingId, __Header_Released_By = "seat-map" });
                    }
                });
                e.Handler<SeatHoldNotice>(ctx =>
                {
                    released.Add(ctx.Headers.Get<string>("Released-By"));
                    return Task.CompletedTask;
                });
            });
        }, services =>
        {
            services.AddSingleton<Recorder<Delivery>>();
            services.AddSingleton<Recorder<string?>>();
        });
        var harness = provider.GetRequiredService<ITestHarness>();
        var deliveries = provider.GetRequiredService<Recorder<Delivery>>();
        var released = provider.GetRequiredService<Recorder<string?>>();

        var bookingId = Guid.NewGuid();
        await (await harness.Bus.GetSendEndpoint(new Uri($"queue:{Endpoint}"))).Send(new ReserveSeat(bookingId, 6));

        var seen = await deliveries.WaitForCount(2);
        Assert.True(seen[1].At - seen[0].At >= Delay - Early, $"Scheduled after {(seen[1].At - seen[0].At).TotalMilliseconds:F0} ms");
        var faulted = await harness.Published.SelectAsync<Fault<ReserveSeat>>().FirstOrDefault();
        Assert.True(faulted == null, faulted?.Context.Message.Exceptions[0].ExceptionType + ": " + faulted?.Context.Message.Exceptions[0].Message);
        Assert.Equal(["seat-map"], await released.WaitForCount(1));
    }

    [Fact]
    public async Task With_the_in_memory_outbox_a_redelivered_message_sends_nothing_until_it_succeeds()
    {
        await using var provider = await Binding.StartHarness(_ => { }, (context, cfg) =>
        {
            var faults = context.GetRequiredService<Recorder<ErrorEntry>>();
            var inner = context.GetRequiredService<Recorder<Guid>>();
            cfg.ReceiveEndpoint(Endpoint, e =>
            {
                e.Handler<ReserveSeat>(async ctx =>
                {
                    await ctx.Publish(new SeatReleased(ctx.Message.BookingId));
                    throw new InvalidOperationException("Seat map gone");
                }, h =>
                {
                    h.UseDelayedRedelivery(r => r.Interval(1, TimeSpan.FromMilliseconds(100)));
                    h.UseMessageRetry(r => r.Interval(1, TimeSpan.FromMilliseconds(100)));
                    h.UseInMemoryOutbox(context);
                });
            });
            cfg.ReceiveEndpoint("seat-released-watch", e => e.Handler<SeatReleased>(ctx =>
            {
                inner.Add(ctx.Message.BookingId);
                return Task.CompletedTask;
            }));
            cfg.ReceiveEndpoint("seat-faults", e => e.Handler<Fault<ReserveSeat>>(ctx =>
            {
                faults.Add(new ErrorEntry(ctx.Message.Message.BookingId, ctx.Message.Exceptions[0].Message));
                return Task.CompletedTask;
            }));
        }, services =>
        {
            services.AddSingleton<Recorder<ErrorEntry>>();
            services.AddSingleton<Recorder<Guid>>();
        });
        var harness = provider.GetRequiredService<ITestHarness>();
        var faults = provider.GetRequiredService<Recorder<ErrorEntry>>();

        await (await harness.Bus.GetSendEndpoint(new Uri($"queue:{Endpoint}"))).Send(new ReserveSeat(Guid.NewGuid(), 1));

        Assert.Single(await faults.WaitForCount(1));

        // What the failed attempts published was discarded with them; a later publish arrives alone.
        var probe = Guid.NewGuid();
        await harness.Bus.Publish(new SeatReleased(probe));
        Assert.Equal([probe], await provider.GetRequiredService<Recorder<Guid>>().WaitForCount(1));
    }

    [Fact]
    public async Task A_saga_schedule_fires_when_due()
    {
        await using var provider = await StartHoldSaga();
        var harness = provider.GetRequiredService<ITestHarness>();
        var saga = harness.GetSagaStateMachineHarness<SeatHoldStateMachine, SeatHold>();

        var holdId = Guid.NewGuid();
        await harness.Bus.Publish(new SeatHoldRequested(holdId));
        Assert.Equal(holdId, await saga.Exists(holdId, x => x.Held));

        Assert.Equal(holdId, await saga.Exists(holdId, x => x.Expired));
        var instance = saga.Sagas.ContainsInState(holdId, saga.StateMachine, x => x.Expired);
        Assert.NotNull(instance);
        Assert.True(instance.ExpiredAt - instance.HeldAt >= SeatHoldStateMachine.HoldTime - Early);
    }

    [Fact]
    public async Task An_unscheduled_saga_schedule_does_not_fire()
    {
        await using var provider = await StartHoldSaga();
        var harness = provider.GetRequiredService<ITestHarness>();
        var saga = harness.GetSagaStateMachineHarness<SeatHoldStateMachine, SeatHold>();

        var confirmed = Guid.NewGuid();
        await harness.Bus.Publish(new SeatHoldRequested(confirmed));
        Assert.Equal(confirmed, await saga.Exists(confirmed, x => x.Held));
        await harness.Bus.Publish(new SeatHoldConfirmed(confirmed));
        Assert.Equal(confirmed, await saga.Exists(confirmed, x => x.Booked));

        // A hold made later, left to expire: when its expiry fires, the confirmed hold's would have fired before it.
        var later = Guid.NewGuid();
        await harness.Bus.Publish(new SeatHoldRequested(later));
        Assert.Equal(later, await saga.Exists(later, x => x.Expired));

        Assert.NotNull(saga.Sagas.ContainsInState(confirmed, saga.StateMachine, x => x.Booked));
        Assert.Null(saga.Sagas.ContainsInState(confirmed, saga.StateMachine, x => x.Expired));
    }

    Task<ServiceProvider> StartHoldSaga()
    {
        return Binding.StartHarness(x => x.AddSagaStateMachine<SeatHoldStateMachine, SeatHold>().InMemoryRepository(),
            (_, cfg) => cfg.UseDelayedMessageScheduler());
    }

    Task<ServiceProvider> StartEndpoint(Action<IReceiveEndpointConfigurator> configure, Func<ConsumeContext<ReserveSeat>, Recorder<Delivery>, Task> handle,
        bool withErrorQueue = false, Action<IBusFactoryConfigurator>? configureBus = null)
    {
        return Binding.StartHarness(_ => { }, (context, cfg) =>
        {
            configureBus?.Invoke(cfg);

            var deliveries = context.GetRequiredService<Recorder<Delivery>>();
            cfg.ReceiveEndpoint(Endpoint, e =>
            {
                configure(e);
                e.Handler<ReserveSeat>(ctx =>
                {
                    deliveries.Add(new Delivery(ctx.Message.BookingId, ctx.GetRedeliveryCount(), DateTime.UtcNow));
                    return handle(ctx, deliveries);
                });
            });

            if (withErrorQueue)
            {
                var errors = context.GetRequiredService<Recorder<ErrorEntry>>();
                cfg.ReceiveEndpoint(Endpoint + "_error", e =>
                {
                    e.ConfigureConsumeTopology = false;
                    e.Handler<ReserveSeat>(ctx =>
                    {
                        errors.Add(new ErrorEntry(ctx.Message.BookingId, ctx.ReceiveContext.TransportHeaders.Get<string>(MessageHeaders.FaultMessage)));
                        return Task.CompletedTask;
                    });
                });
            }
        }, services =>
        {
            services.AddSingleton<Recorder<Delivery>>();
            services.AddSingleton<Recorder<ErrorEntry>>();
        });
    }


    public record ErrorEntry(Guid BookingId, string? ExceptionMessage);
}


public record SeatHoldRequested(Guid HoldId);


public record SeatHoldConfirmed(Guid HoldId);


public record SeatHoldExpired(Guid HoldId);


public class SeatHold :
    SagaStateMachineInstance
{
    public string CurrentState { get; set; } = "";
    public Guid? ExpiryToken { get; set; }
    public DateTime HeldAt { get; set; }
    public DateTime ExpiredAt { get; set; }
    public Guid CorrelationId { get; set; }
}


/// <summary>A seat is held for a while; unless the hold is confirmed in time, it expires.</summary>
public class SeatHoldStateMachine :
    MassTransitStateMachine<SeatHold>
{
    public static readonly TimeSpan HoldTime = TimeSpan.FromMilliseconds(600);

    public SeatHoldStateMachine()
    {
        InstanceState(x => x.CurrentState);

        Event(() => Requested, e => e.CorrelateById(context => context.Message.HoldId));
        Event(() => Confirmed, e => e.CorrelateById(context => context.Message.HoldId));

        Schedule(() => Expiry, x => x.ExpiryToken, s =>
        {
            s.Delay = HoldTime;
            s.Received = r => r.CorrelateById(context => context.Message.HoldId);
        });

        Initially(
            When(Requested)
                .Then(context => context.Saga.HeldAt = DateTime.UtcNow)
                .Schedule(Expiry, context => new SeatHoldExpired(context.Saga.CorrelationId))
                .TransitionTo(Held));

        During(Held,
            When(Confirmed)
                .Unschedule(Expiry)
                .TransitionTo(Booked),
            When(Expiry!.Received)
                .Then(context => context.Saga.ExpiredAt = DateTime.UtcNow)
                .TransitionTo(Expired));
    }

    public State Held { get; private set; } = null!;
    public State Expired { get; private set; } = null!;
    public State Booked { get; private set; } = null!;

    public Event<SeatHoldRequested> Requested { get; private set; } = null!;
    public Event<SeatHoldConfirmed> Confirmed { get; private set; } = null!;
    public Schedule<SeatHold, SeatHoldExpired> Expiry { get; private set; } = null!;
}


public class RedisTime : TimeContract<RedisBinding>;

public class InMemoryTime : TimeContract<InMemoryBinding>;
