namespace MassTransit.RedisStreams.Tests.Contract;

using System;
using System.Threading.Tasks;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


public record ShipmentCreated(Guid ShipmentId);


public record ShipmentDelivered(Guid ShipmentId);


public class ShipmentState :
    SagaStateMachineInstance
{
    public string CurrentState { get; set; } = "";
    public DateTime? CreatedAt { get; set; }
    public Guid CorrelationId { get; set; }
}


public class ShipmentStateMachine :
    MassTransitStateMachine<ShipmentState>
{
    public ShipmentStateMachine()
    {
        InstanceState(x => x.CurrentState);

        Event(() => Created, e => e.CorrelateById(context => context.Message.ShipmentId));
        Event(() => Delivered, e => e.CorrelateById(context => context.Message.ShipmentId));

        Initially(
            When(Created)
                .Then(context => context.Saga.CreatedAt = DateTime.UtcNow)
                .TransitionTo(InTransit));

        During(InTransit,
            When(Delivered)
                .Finalize());
    }

    public State InTransit { get; private set; } = null!;

    public Event<ShipmentCreated> Created { get; private set; } = null!;
    public Event<ShipmentDelivered> Delivered { get; private set; } = null!;
}


public abstract class SagaContract<TBinding>
    where TBinding : ITransportBinding, new()
{
    protected TBinding Binding { get; } = new();

    [Fact]
    public async Task A_saga_driven_by_two_published_events_reaches_its_final_state()
    {
        await using var provider = await Binding.StartHarness(x => x.AddSagaStateMachine<ShipmentStateMachine, ShipmentState>().InMemoryRepository());
        var harness = provider.GetRequiredService<ITestHarness>();
        var saga = harness.GetSagaStateMachineHarness<ShipmentStateMachine, ShipmentState>();

        var shipmentId = Guid.NewGuid();

        await harness.Bus.Publish(new ShipmentCreated(shipmentId));
        Assert.Equal(shipmentId, await saga.Exists(shipmentId, x => x.InTransit));

        await harness.Bus.Publish(new ShipmentDelivered(shipmentId));
        Assert.Equal(shipmentId, await saga.Exists(shipmentId, x => x.Final));
    }

    [Fact]
    public async Task Events_are_correlated_to_their_own_saga_instance()
    {
        await using var provider = await Binding.StartHarness(x => x.AddSagaStateMachine<ShipmentStateMachine, ShipmentState>().InMemoryRepository());
        var harness = provider.GetRequiredService<ITestHarness>();
        var saga = harness.GetSagaStateMachineHarness<ShipmentStateMachine, ShipmentState>();

        var delivered = Guid.NewGuid();
        var pending = Guid.NewGuid();

        await harness.Bus.Publish(new ShipmentCreated(delivered));
        await harness.Bus.Publish(new ShipmentCreated(pending));
        Assert.Equal(delivered, await saga.Exists(delivered, x => x.InTransit));
        Assert.Equal(pending, await saga.Exists(pending, x => x.InTransit));

        await harness.Bus.Publish(new ShipmentDelivered(delivered));
        Assert.Equal(delivered, await saga.Exists(delivered, x => x.Final));

        // The delivery of one shipment left the other where it was.
        var other = saga.Sagas.ContainsInState(pending, saga.StateMachine, x => x.InTransit);
        Assert.NotNull(other);
        Assert.NotNull(other.CreatedAt);
    }
}


public class RedisSaga : SagaContract<RedisBinding>;

public class InMemorySaga : SagaContract<InMemoryBinding>;
