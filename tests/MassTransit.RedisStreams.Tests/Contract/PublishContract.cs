namespace MassTransit.RedisStreams.Tests.Contract;

using System;
using System.Linq;
using System.Threading.Tasks;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


public record PriceChanged(Guid ProductId, int Sequence);


public record StockCounted(Guid ProductId);


public abstract class PublishContract<TBinding>
    where TBinding : ITransportBinding, new()
{
    protected TBinding Binding { get; } = new();

    [Fact]
    public async Task A_published_event_reaches_every_endpoint_that_consumes_its_type_exactly_once()
    {
        const int count = 20;

        await using var provider = await Binding.StartHarness(x =>
        {
            x.AddConsumer<PricingConsumer>();
            x.AddConsumer<CatalogConsumer>();
        }, services: services => services.AddSingleton<Recorder<Delivered>>());

        var harness = provider.GetRequiredService<ITestHarness>();
        var recorder = provider.GetRequiredService<Recorder<Delivered>>();

        var productId = Guid.NewGuid();
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => harness.Bus.Publish(new PriceChanged(productId, i))));

        var delivered = await recorder.WaitFor(x => x.Select(d => (d.Consumer, d.Sequence)).Distinct().Count() >= 2 * count,
            $"{count} events at each of the two consumers");

        foreach (var consumer in new[] { nameof(PricingConsumer), nameof(CatalogConsumer) })
        {
            var sequences = delivered.Where(x => x.Consumer == consumer).Select(x => x.Sequence).Order().ToArray();
            Assert.Equal(Enumerable.Range(0, count), sequences);
        }

        Assert.All(delivered, x => Assert.Equal(productId, x.ProductId));
    }

    [Fact]
    public async Task An_endpoint_that_does_not_consume_the_type_receives_none_of_its_events()
    {
        var receives = new ReceiveCounter();

        await using var provider = await Binding.StartHarness(x =>
            {
                x.AddConsumer<PricingConsumer>().Endpoint(e => e.Name = "pricing");
                x.AddConsumer<StockConsumer>().Endpoint(e => e.Name = "stock");
            }, (_, cfg) => cfg.ConnectReceiveObserver(receives),
            services => services.AddSingleton<Recorder<Delivered>>());

        var harness = provider.GetRequiredService<ITestHarness>();
        var recorder = provider.GetRequiredService<Recorder<Delivered>>();

        var productId = Guid.NewGuid();
        for (var i = 0; i < 5; i++)
            await harness.Bus.Publish(new PriceChanged(productId, i));

        // Published after the PriceChanged events: once the stock endpoint has it, anything wrongly routed there before it
        // would have been received too.
        await harness.Bus.Publish(new StockCounted(productId));

        await recorder.WaitFor(x => x.Count(d => d.Consumer == nameof(PricingConsumer)) >= 5 && x.Any(d => d.Consumer == nameof(StockConsumer)),
            "5 PriceChanged at pricing and the StockCounted at stock");

        Assert.Equal(1, receives.ReceivedBy("stock"));
        Assert.Equal(5, receives.ReceivedBy("pricing"));
        Assert.Single(recorder.Items, x => x.Consumer == nameof(StockConsumer));
    }


    public record Delivered(string Consumer, Guid ProductId, int Sequence);


    public class PricingConsumer :
        IConsumer<PriceChanged>
    {
        readonly Recorder<Delivered> _recorder;

        public PricingConsumer(Recorder<Delivered> recorder)
        {
            _recorder = recorder;
        }

        public Task Consume(ConsumeContext<PriceChanged> context)
        {
            _recorder.Add(new Delivered(nameof(PricingConsumer), context.Message.ProductId, context.Message.Sequence));
            return Task.CompletedTask;
        }
    }


    public class CatalogConsumer :
        IConsumer<PriceChanged>
    {
        readonly Recorder<Delivered> _recorder;

        public CatalogConsumer(Recorder<Delivered> recorder)
        {
            _recorder = recorder;
        }

        public Task Consume(ConsumeContext<PriceChanged> context)
        {
            _recorder.Add(new Delivered(nameof(CatalogConsumer), context.Message.ProductId, context.Message.Sequence));
            return Task.CompletedTask;
        }
    }


    public class StockConsumer :
        IConsumer<StockCounted>
    {
        readonly Recorder<Delivered> _recorder;

        public StockConsumer(Recorder<Delivered> recorder)
        {
            _recorder = recorder;
        }

        public Task Consume(ConsumeContext<StockCounted> context)
        {
            _recorder.Add(new Delivered(nameof(StockConsumer), context.Message.ProductId, -1));
            return Task.CompletedTask;
        }
    }
}


public class RedisPublish : PublishContract<RedisBinding>;

public class InMemoryPublish : PublishContract<InMemoryBinding>;
