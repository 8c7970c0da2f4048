namespace MassTransit.RedisStreams.Tests.Contract;

using System;
using System.Linq;
using System.Threading.Tasks;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


public record CheckStock(string Sku);


public record StockLevel(string Sku, int Quantity);


public abstract class RequestResponseContract<TBinding>
    where TBinding : ITransportBinding, new()
{
    const string FailingSku = "explodes";

    protected TBinding Binding { get; } = new();

    [Fact]
    public async Task A_request_gets_the_response_of_its_consumer()
    {
        await using var provider = await StartStockEndpoint();
        var harness = provider.GetRequiredService<ITestHarness>();

        var client = harness.GetRequestClient<CheckStock>();

        var response = await client.GetResponse<StockLevel>(new CheckStock("sku-42"));

        Assert.Equal("sku-42", response.Message.Sku);
        Assert.Equal(QuantityOf("sku-42"), response.Message.Quantity);
    }

    [Fact]
    public async Task A_request_whose_consumer_throws_fails_with_a_request_fault_exception()
    {
        await using var provider = await StartStockEndpoint();
        var harness = provider.GetRequiredService<ITestHarness>();

        var client = harness.GetRequestClient<CheckStock>();

        var exception = await Assert.ThrowsAsync<RequestFaultException>(() => client.GetResponse<StockLevel>(new CheckStock(FailingSku)));

        Assert.Equal($"No stock record for {FailingSku}", exception.Fault?.Exceptions[0].Message);
        Assert.Equal(typeof(InvalidOperationException).FullName, exception.Fault?.Exceptions[0].ExceptionType);
    }

    [Fact]
    public async Task A_request_to_an_endpoint_without_a_consumer_times_out()
    {
        await using var provider = await StartStockEndpoint();
        var harness = provider.GetRequiredService<ITestHarness>();

        var client = harness.Bus.CreateRequestClient<CheckStock>(new Uri("queue:nobody-home"), RequestTimeout.After(s: 1));

        var started = DateTime.UtcNow;
        await Assert.ThrowsAsync<RequestTimeoutException>(() => client.GetResponse<StockLevel>(new CheckStock("sku-1")));

        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Concurrent_requests_each_get_their_own_response()
    {
        const int count = 25;

        await using var provider = await StartStockEndpoint();
        var harness = provider.GetRequiredService<ITestHarness>();

        var client = harness.GetRequestClient<CheckStock>();

        var skus = Enumerable.Range(1, count).Select(i => $"sku-{i}").ToArray();
        var responses = await Task.WhenAll(skus.Select(async sku => (Sku: sku, Response: await client.GetResponse<StockLevel>(new CheckStock(sku)))));

        foreach (var (sku, response) in responses)
        {
            Assert.Equal(sku, response.Message.Sku);
            Assert.Equal(QuantityOf(sku), response.Message.Quantity);
        }
    }

    Task<ServiceProvider> StartStockEndpoint()
    {
        return Binding.StartHarness(x => x.AddConsumer<StockConsumer>().Endpoint(e => e.Name = "stock-levels"));
    }

    static int QuantityOf(string sku) => int.Parse(sku.Split('-')[1]) * 10 + 7;


    public class StockConsumer :
        IConsumer<CheckStock>
    {
        public Task Consume(ConsumeContext<CheckStock> context)
        {
            if (context.Message.Sku == FailingSku)
                throw new InvalidOperationException($"No stock record for {FailingSku}");

            return context.RespondAsync(new StockLevel(context.Message.Sku, QuantityOf(context.Message.Sku)));
        }
    }
}


public class RedisRequestResponse : RequestResponseContract<RedisBinding>;

public class InMemoryRequestResponse : RequestResponseContract<InMemoryBinding>;
