namespace MassTransit.RedisStreams.Tests.Contract;

using System;
using System.Threading.Tasks;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


public record QuoteShipping(Guid QuoteId, string Destination);


public record ShippingQuoted(Guid QuoteId, decimal Price);


public record PriceShipment(Guid QuoteId, string Destination);


public record ShipmentPriced(Guid QuoteId, decimal Price);


public class PriceShipmentConsumer :
    IConsumer<PriceShipment>
{
    public Task Consume(ConsumeContext<PriceShipment> context)
    {
        if (context.Message.Destination == "Atlantis")
            throw new InvalidOperationException("Nobody ships to Atlantis");

        return context.RespondAsync(new ShipmentPriced(context.Message.QuoteId, context.Message.Destination.Length * 1.5m));
    }
}


/// <summary>A future that asks a consumer for a price: the future saga keeps the request and answers the caller.</summary>
public class QuoteShippingFuture :
    Future<QuoteShipping, ShippingQuoted>
{
    public QuoteShippingFuture()
    {
        ConfigureCommand(x => x.CorrelateById(context => context.Message.QuoteId));

        SendRequest<PriceShipment>(x => x.UsingRequestFactory(context => new PriceShipment(context.Message.QuoteId, context.Message.Destination)))
            .OnResponseReceived<ShipmentPriced>(x => x.SetCompletedUsingFactory(context => new ShippingQuoted(context.Message.QuoteId, context.Message.Price)));
    }
}


/// <summary>
/// MassTransit futures: the future's endpoint runs with delayed redelivery, retry and the in-memory outbox, as MassTransit's
/// default future definition configures it.
/// </summary>
public abstract class FutureContract<TBinding>
    where TBinding : ITransportBinding, new()
{
    protected TBinding Binding { get; } = new();

    [Fact]
    public async Task A_future_completes_with_the_response_of_its_request()
    {
        await using var provider = await StartFuture();
        var harness = provider.GetRequiredService<ITestHarness>();

        var quoteId = Guid.NewGuid();
        var response = await harness.GetRequestClient<QuoteShipping>().GetResponse<ShippingQuoted>(new QuoteShipping(quoteId, "Lisbon"));

        Assert.Equal(quoteId, response.Message.QuoteId);
        Assert.Equal(9m, response.Message.Price);
    }

    [Fact]
    public async Task A_future_whose_request_faults_answers_with_the_fault()
    {
        await using var provider = await StartFuture();
        var harness = provider.GetRequiredService<ITestHarness>();

        var exception = await Assert.ThrowsAsync<RequestFaultException>(() =>
            harness.GetRequestClient<QuoteShipping>().GetResponse<ShippingQuoted>(new QuoteShipping(Guid.NewGuid(), "Atlantis")));

        Assert.Contains("Nobody ships to Atlantis", exception.Message);
    }

    Task<ServiceProvider> StartFuture()
    {
        return Binding.StartHarness(x =>
        {
            x.AddConsumer<PriceShipmentConsumer>();
            x.AddFuture<QuoteShippingFuture>();
        });
    }
}


public class RedisFuture : FutureContract<RedisBinding>;

public class InMemoryFuture : FutureContract<InMemoryBinding>;
