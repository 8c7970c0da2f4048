namespace MassTransit.RedisStreams.Tests.Contract;

using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


public interface IAuctionEvent
{
    Guid AuctionId { get; }
}


public record AuctionEnded(Guid AuctionId, decimal WinningBid) :
    IAuctionEvent;


public abstract class PolymorphismContract<TBinding>
    where TBinding : ITransportBinding, new()
{
    protected TBinding Binding { get; } = new();

    [Fact]
    public async Task Consumers_of_the_interface_and_of_the_class_on_different_endpoints_both_receive_the_published_class()
    {
        await using var provider = await Binding.StartHarness(x =>
        {
            x.AddConsumer<AnyAuctionEventConsumer>().Endpoint(e => e.Name = "auction-events");
            x.AddConsumer<AuctionEndedConsumer>().Endpoint(e => e.Name = "auction-ended");
        }, services: services => services.AddSingleton<Recorder<Handled>>());

        var recorder = provider.GetRequiredService<Recorder<Handled>>();
        var bus = provider.GetRequiredService<IBus>();

        var auctionId = Guid.NewGuid();
        await bus.Publish(new AuctionEnded(auctionId, 12.5m));

        var handled = await recorder.WaitFor(x => x.Any(h => h.Consumer == nameof(AnyAuctionEventConsumer))
            && x.Any(h => h.Consumer == nameof(AuctionEndedConsumer)), "the event at both consumers");

        Assert.Contains(new Handled(nameof(AnyAuctionEventConsumer), auctionId, "auction-events"), handled);
        Assert.Contains(new Handled(nameof(AuctionEndedConsumer), auctionId, "auction-ended"), handled);
    }

    [Fact]
    public async Task One_endpoint_with_consumers_of_the_interface_and_of_the_class_delivers_the_event_once_to_each()
    {
        await using var provider = await Binding.StartHarness(x =>
        {
            x.AddConsumer<AnyAuctionEventConsumer>().Endpoint(e => e.Name = "auctions");
            x.AddConsumer<AuctionEndedConsumer>().Endpoint(e => e.Name = "auctions");
        }, services: services => services.AddSingleton<Recorder<Handled>>());

        await AssertEachConsumerGetsEachEventOnce(provider, nameof(AnyAuctionEventConsumer), nameof(AuctionEndedConsumer));
    }

    [Fact]
    public async Task A_consumer_of_both_the_interface_and_the_class_is_called_once_for_each()
    {
        await using var provider = await Binding.StartHarness(x => x.AddConsumer<BothAuctionConsumer>().Endpoint(e => e.Name = "auction-both"),
            services: services => services.AddSingleton<Recorder<Handled>>());

        await AssertEachConsumerGetsEachEventOnce(provider, BothAuctionConsumer.AsInterface, BothAuctionConsumer.AsClass);
    }

    /// <summary>
    /// Publishes two events one after the other and waits for both at every consumer: when the second has arrived, a
    /// duplicate of the first would have too.
    /// </summary>
    static async Task AssertEachConsumerGetsEachEventOnce(IServiceProvider provider, params string[] consumers)
    {
        var recorder = provider.GetRequiredService<Recorder<Handled>>();
        var bus = provider.GetRequiredService<IBus>();

        var first = Guid.NewGuid();
        await bus.Publish(new AuctionEnded(first, 1m));
        await recorder.WaitFor(x => consumers.All(c => x.Any(h => h.Consumer == c && h.AuctionId == first)), "the first event at every consumer");

        var second = Guid.NewGuid();
        await bus.Publish(new AuctionEnded(second, 2m));
        var handled = await recorder.WaitFor(x => consumers.All(c => x.Any(h => h.Consumer == c && h.AuctionId == second)),
            "the second event at every consumer");

        foreach (var consumer in consumers)
        {
            Assert.Single(handled, x => x.Consumer == consumer && x.AuctionId == first);
            Assert.Single(handled, x => x.Consumer == consumer && x.AuctionId == second);
        }

        Assert.Equal(2 * consumers.Length, handled.Count);
    }

    static string EndpointName(ConsumeContext context) => context.ReceiveContext.InputAddress.AbsolutePath.TrimEnd('/').Split('/')[^1];


    public record Handled(string Consumer, Guid AuctionId, string Endpoint);


    public class AnyAuctionEventConsumer :
        IConsumer<IAuctionEvent>
    {
        readonly Recorder<Handled> _recorder;

        public AnyAuctionEventConsumer(Recorder<Handled> recorder)
        {
            _recorder = recorder;
        }

        public Task Consume(ConsumeContext<IAuctionEvent> context)
        {
            _recorder.Add(new Handled(nameof(AnyAuctionEventConsumer), context.Message.AuctionId, EndpointName(context)));
            return Task.CompletedTask;
        }
    }


    public class AuctionEndedConsumer :
        IConsumer<AuctionEnded>
    {
        readonly Recorder<Handled> _recorder;

        public AuctionEndedConsumer(Recorder<Handled> recorder)
        {
            _recorder = recorder;
        }

        public Task Consume(ConsumeContext<AuctionEnded> context)
        {
            _recorder.Add(new Handled(nameof(AuctionEndedConsumer), context.Message.AuctionId, EndpointName(context)));
            return Task.CompletedTask;
        }
    }


    public class BothAuctionConsumer :
        IConsumer<AuctionEnded>,
        IConsumer<IAuctionEvent>
    {
        public const string AsClass = nameof(BothAuctionConsumer) + "<AuctionEnded>";
        public const string AsInterface = nameof(BothAuctionConsumer) + "<IAuctionEvent>";

        readonly Recorder<Handled> _recorder;

        public BothAuctionConsumer(Recorder<Handled> recorder)
        {
            _recorder = recorder;
        }

        public Task Consume(ConsumeContext<AuctionEnded> context)
        {
            _recorder.Add(new Handled(AsClass, context.Message.AuctionId, EndpointName(context)));
            return Task.CompletedTask;
        }

        public Task Consume(ConsumeContext<IAuctionEvent> context)
        {
            _recorder.Add(new Handled(AsInterface, context.Message.AuctionId, EndpointName(context)));
            return Task.CompletedTask;
        }
    }
}


public class RedisPolymorphism : PolymorphismContract<RedisBinding>;

public class InMemoryPolymorphism : PolymorphismContract<InMemoryBinding>;
