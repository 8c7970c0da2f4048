namespace MassTransit.RedisStreams.Tests.Contract;

using System;
using System.Linq;
using System.Threading.Tasks;
using MassTransit.Courier.Contracts;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


public record Grill(Guid BurgerId);


public record GrillBurgerArguments(Guid BurgerId, string Doneness);


[EntityName("burger-ordered")]
public record BurgerOrdered(Guid BurgerId);


public record BurgerReady(Guid BurgerId);


/// <summary>
/// <c>exchange:X</c> addresses, as code written for MassTransit's in-memory and RabbitMQ transports uses them: the endpoint X,
/// or — for a message of the type whose entity name is X — that type's subscribers.
/// </summary>
public abstract class ExchangeAddressContract<TBinding>
    where TBinding : ITransportBinding, new()
{
    protected TBinding Binding { get; } = new();

    [Fact]
    public async Task A_message_sent_to_an_exchange_address_named_after_an_endpoint_is_consumed_there()
    {
        await using var provider = await Binding.StartHarness(_ => { }, (context, cfg) =>
        {
            var recorder = context.GetRequiredService<Recorder<Guid>>();
            cfg.ReceiveEndpoint("grill", e => e.Handler<Grill>(ctx =>
            {
                recorder.Add(ctx.Message.BurgerId);
                return Task.CompletedTask;
            }));
        }, services => services.AddSingleton<Recorder<Guid>>());

        var harness = provider.GetRequiredService<ITestHarness>();
        var burgerId = Guid.NewGuid();

        await (await harness.Bus.GetSendEndpoint(new Uri("exchange:grill"))).Send(new Grill(burgerId));

        Assert.Equal(burgerId, Assert.Single(await provider.GetRequiredService<Recorder<Guid>>().WaitForCount(1)));
    }

    [Fact]
    public async Task A_request_client_on_an_exchange_address_gets_the_response()
    {
        await using var provider = await Binding.StartHarness(_ => { }, (_, cfg) =>
            cfg.ReceiveEndpoint("kitchen", e => e.Handler<Grill>(ctx => ctx.RespondAsync(new BurgerReady(ctx.Message.BurgerId)))));

        var harness = provider.GetRequiredService<ITestHarness>();
        var client = harness.Bus.CreateRequestClient<Grill>(new Uri("exchange:kitchen"), RequestTimeout.After(s: 10));

        var burgerId = Guid.NewGuid();
        var response = await client.GetResponse<BurgerReady>(new Grill(burgerId));

        Assert.Equal(burgerId, response.Message.BurgerId);
    }

    [Fact]
    public async Task A_routing_slip_whose_activity_is_addressed_as_an_exchange_completes()
    {
        await using var provider = await Binding.StartHarness(x => x.AddExecuteActivity<GrillBurgerActivity, GrillBurgerArguments>(),
            services: services => services.AddSingleton<Recorder<Guid>>());

        var harness = provider.GetRequiredService<ITestHarness>();
        var formatter = DefaultEndpointNameFormatter.Instance;
        var burgerId = Guid.NewGuid();

        // As MassTransit's own futures test framework addresses its activities.
        var builder = new RoutingSlipBuilder(NewId.NextGuid());
        builder.AddActivity("grill", new Uri($"exchange:{formatter.ExecuteActivity<GrillBurgerActivity, GrillBurgerArguments>()}"),
            new { BurgerId = burgerId, Doneness = "medium" });
        var routingSlip = builder.Build();

        await harness.Bus.Execute(routingSlip);

        Assert.Equal(burgerId, Assert.Single(await provider.GetRequiredService<Recorder<Guid>>().WaitForCount(1)));
        Assert.True(await harness.Published.Any<RoutingSlipCompleted>(x => x.Context.Message.TrackingNumber == routingSlip.TrackingNumber),
            "the routing slip completes");
    }

    [Fact]
    public async Task A_message_sent_to_an_exchange_address_named_after_its_type_reaches_every_subscriber_of_the_type()
    {
        await using var provider = await Binding.StartHarness(_ => { }, (context, cfg) =>
        {
            var recorder = context.GetRequiredService<Recorder<string>>();
            foreach (var name in new[] { "fryer", "counter" })
            {
                cfg.ReceiveEndpoint(name, e => e.Handler<BurgerOrdered>(ctx =>
                {
                    recorder.Add($"{name}:{ctx.Message.BurgerId}");
                    return Task.CompletedTask;
                }));
            }
        }, services => services.AddSingleton<Recorder<string>>());

        var harness = provider.GetRequiredService<ITestHarness>();
        var burgerId = Guid.NewGuid();

        await (await harness.Bus.GetSendEndpoint(new Uri("exchange:burger-ordered"))).Send(new BurgerOrdered(burgerId));

        var received = await provider.GetRequiredService<Recorder<string>>().WaitForCount(2);
        Assert.Equal([$"counter:{burgerId}", $"fryer:{burgerId}"], received.Order());
    }

    public class GrillBurgerActivity :
        IExecuteActivity<GrillBurgerArguments>
    {
        readonly Recorder<Guid> _recorder;

        public GrillBurgerActivity(Recorder<Guid> recorder)
        {
            _recorder = recorder;
        }

        public Task<ExecutionResult> Execute(ExecuteContext<GrillBurgerArguments> context)
        {
            _recorder.Add(context.Arguments.BurgerId);
            return Task.FromResult(context.Completed());
        }
    }
}


public class RedisExchangeAddress : ExchangeAddressContract<RedisBinding>;

public class InMemoryExchangeAddress : ExchangeAddressContract<InMemoryBinding>;
