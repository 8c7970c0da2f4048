namespace MassTransit.RedisStreams.Tests.Testing;

using System;
using System.Linq;
using System.Threading.Tasks;
using MassTransit.Testing;
using Redis;
using Xunit;


public record SubmitOrder(Guid OrderId, string Customer);

public record OrderSubmitted(Guid OrderId);

public record CheckOrderStatus(Guid OrderId);

public record OrderStatus(Guid OrderId, string Status);

public record OrderAccepted(Guid OrderId);


public class SubmitOrderConsumer :
    IConsumer<SubmitOrder>,
    IConsumer<CheckOrderStatus>
{
    public Task Consume(ConsumeContext<SubmitOrder> context) => context.Publish(new OrderSubmitted(context.Message.OrderId));

    public Task Consume(ConsumeContext<CheckOrderStatus> context) => context.RespondAsync(new OrderStatus(context.Message.OrderId, "Submitted"));
}


public class OrderState :
    SagaStateMachineInstance
{
    public Guid CorrelationId { get; set; }
    public string CurrentState { get; set; } = "";
}


public class OrderStateMachine :
    MassTransitStateMachine<OrderState>
{
    public OrderStateMachine()
    {
        InstanceState(x => x.CurrentState);
        Event(() => Submitted, x => x.CorrelateById(m => m.Message.OrderId));
        Event(() => Accepted, x => x.CorrelateById(m => m.Message.OrderId));

        Initially(When(Submitted).TransitionTo(Pending));
        During(Pending, When(Accepted).TransitionTo(Done));
    }

    public State Pending { get; private set; } = null!;
    public State Done { get; private set; } = null!;
    public Event<OrderSubmitted> Submitted { get; private set; } = null!;
    public Event<OrderAccepted> Accepted { get; private set; } = null!;
}


/// <summary>
/// Tests in the style of MassTransit's public samples, written against <see cref="InMemoryTestHarness" />: a consumer, a
/// request client and a saga state machine on the harness's input queue. The same tests run on
/// <see cref="RedisStreamsTestHarness" /> by changing the class the harness is created from, and nothing else.
/// </summary>
public abstract class OlderStyleHarnessTests
{
    protected abstract Task<BusTestHarness> CreateHarness();

    [Fact]
    public async Task A_consumer_consumes_what_is_sent_to_the_input_queue_and_publishes()
    {
        var harness = await CreateHarness();
        var consumer = harness.Consumer<SubmitOrderConsumer>();

        await harness.Start();
        try
        {
            var orderId = NewId.NextGuid();
            await harness.InputQueueSendEndpoint.Send(new SubmitOrder(orderId, "Ada"));

            Assert.True(await harness.Consumed.Any<SubmitOrder>(x => x.Context.Message.OrderId == orderId));
            Assert.True(await consumer.Consumed.Any<SubmitOrder>(x => x.Context.Message.OrderId == orderId));
            Assert.True(await harness.Published.Any<OrderSubmitted>(x => x.Context.Message.OrderId == orderId));
            Assert.False(await harness.Published.Any<Fault<SubmitOrder>>());
        }
        finally
        {
            await harness.Stop();
        }
    }

    [Fact]
    public async Task A_request_client_gets_the_consumers_response()
    {
        var harness = await CreateHarness();
        harness.Consumer<SubmitOrderConsumer>();

        await harness.Start();
        try
        {
            var client = harness.CreateRequestClient<CheckOrderStatus>();
            var orderId = NewId.NextGuid();

            var response = await client.GetResponse<OrderStatus>(new CheckOrderStatus(orderId));

            Assert.Equal(orderId, response.Message.OrderId);
            Assert.Equal("Submitted", response.Message.Status);
        }
        finally
        {
            await harness.Stop();
        }
    }

    [Fact]
    public async Task A_saga_state_machine_moves_through_its_states()
    {
        var harness = await CreateHarness();
        var machine = new OrderStateMachine();
        var saga = harness.StateMachineSaga<OrderState, OrderStateMachine>(machine);

        await harness.Start();
        try
        {
            var orderId = NewId.NextGuid();
            await harness.InputQueueSendEndpoint.Send(new OrderSubmitted(orderId));
            Assert.NotNull(await saga.Exists(orderId, x => x.Pending));

            await harness.InputQueueSendEndpoint.Send(new OrderAccepted(orderId));
            Assert.NotNull(await saga.Exists(orderId, x => x.Done));
            Assert.True(await saga.Consumed.Any<OrderAccepted>());
        }
        finally
        {
            await harness.Stop();
        }
    }
}


public class InMemoryOlderStyleHarnessTests :
    OlderStyleHarnessTests
{
    protected override Task<BusTestHarness> CreateHarness() => Task.FromResult<BusTestHarness>(new InMemoryTestHarness());
}


public class RedisStreamsOlderStyleHarnessTests :
    OlderStyleHarnessTests
{
    protected override async Task<BusTestHarness> CreateHarness()
    {
        var redis = await RedisTestContext.Create();
        return new RedisStreamsTestHarness { Configuration = redis.ConnectionString };
    }

    [Fact]
    public async Task Two_harnesses_on_one_Redis_stay_apart_and_clean_what_they_left()
    {
        var redis = await RedisTestContext.Create();
        var first = new RedisStreamsTestHarness { Configuration = redis.ConnectionString };
        var second = new RedisStreamsTestHarness { Configuration = redis.ConnectionString };
        first.Consumer<SubmitOrderConsumer>();
        second.Consumer<SubmitOrderConsumer>();

        await first.Start();
        await second.Start();
        try
        {
            Assert.NotEqual(first.KeyPrefix, second.KeyPrefix);

            await first.InputQueueSendEndpoint.Send(new SubmitOrder(NewId.NextGuid(), "Ada"));
            Assert.True(await first.Consumed.Any<SubmitOrder>());
            Assert.False(await second.Consumed.Any<SubmitOrder>());
        }
        finally
        {
            await second.Stop();
            await first.Stop();
        }

        var db = await redis.Database();
        var server = db.Multiplexer.GetServers().Single();
        Assert.Empty(server.Keys(pattern: first.KeyPrefix + ":*"));
    }
}
