namespace MassTransit.RedisStreams.Tests.Contract;

using System;
using System.Linq;
using System.Threading.Tasks;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


public record AddressProbe(Guid Id);


public record BulkItem(int Index);


public abstract class SendReceiveContract<TBinding>
    where TBinding : ITransportBinding, new()
{
    protected TBinding Binding { get; } = new();

    [Fact]
    public async Task A_message_sent_to_a_queue_address_is_consumed_there()
    {
        await using var provider = await Binding.StartHarness(x => x.AddConsumer<OrderConsumer>());
        var harness = provider.GetRequiredService<ITestHarness>();

        var endpoint = await harness.Bus.GetSendEndpoint(new Uri("queue:Order"));
        await endpoint.Send(new SubmitOrder(Guid.NewGuid()));

        Assert.True(await harness.GetConsumerHarness<OrderConsumer>().Consumed.Any<SubmitOrder>());
    }

    [Fact]
    public async Task The_consumer_sees_the_endpoint_input_address_as_destination_and_input_address()
    {
        Uri? inputAddress = null;

        await using var provider = await Binding.StartHarness(_ => { }, (context, cfg) =>
        {
            var recorder = context.GetRequiredService<Recorder<SeenAddresses>>();
            cfg.ReceiveEndpoint("address-check", e =>
            {
                inputAddress = e.InputAddress;
                e.Handler<AddressProbe>(ctx =>
                {
                    recorder.Add(new SeenAddresses(ctx.Message.Id, ctx.DestinationAddress, ctx.ReceiveContext.InputAddress, ctx.SourceAddress));
                    return Task.CompletedTask;
                });
            });
        }, services => services.AddSingleton<Recorder<SeenAddresses>>());

        var harness = provider.GetRequiredService<ITestHarness>();
        var recorder = provider.GetRequiredService<Recorder<SeenAddresses>>();
        Assert.NotNull(inputAddress);

        // Sent to the short form.
        var first = Guid.NewGuid();
        await (await harness.Bus.GetSendEndpoint(new Uri("queue:address-check"))).Send(new AddressProbe(first));

        // Sent to the address the endpoint reports: it must name the same endpoint.
        var second = Guid.NewGuid();
        await (await harness.Bus.GetSendEndpoint(inputAddress)).Send(new AddressProbe(second));

        var seen = await recorder.WaitForCount(2);

        foreach (var id in new[] { first, second })
        {
            var addresses = Assert.Single(seen, x => x.Id == id);
            Assert.Equal(inputAddress, addresses.Input);
            Assert.Equal(harness.Bus.Address, addresses.Source);
        }

        // A transport may add options to a short-form address (in-memory adds ?bind=true), but it names the same endpoint.
        Assert.Equal(WithoutQuery(inputAddress), WithoutQuery(seen.Single(x => x.Id == first).Destination));

        // Sent to the input address itself, the destination is that address exactly.
        Assert.Equal(inputAddress, seen.Single(x => x.Id == second).Destination);
    }

    [Fact]
    public async Task A_message_sent_to_the_bus_address_reaches_a_handler_connected_to_the_bus()
    {
        await using var provider = await Binding.StartHarness(_ => { }, services: services => services.AddSingleton<Recorder<SeenAddresses>>());
        var harness = provider.GetRequiredService<ITestHarness>();
        var recorder = provider.GetRequiredService<Recorder<SeenAddresses>>();

        var handle = harness.Bus.ConnectHandler<AddressProbe>(ctx =>
        {
            recorder.Add(new SeenAddresses(ctx.Message.Id, ctx.DestinationAddress, ctx.ReceiveContext.InputAddress, ctx.SourceAddress));
            return Task.CompletedTask;
        });
        try
        {
            var id = Guid.NewGuid();
            await (await harness.Bus.GetSendEndpoint(harness.Bus.Address)).Send(new AddressProbe(id));

            var seen = Assert.Single(await recorder.WaitForCount(1));
            Assert.Equal(id, seen.Id);
            Assert.Equal(harness.Bus.Address, seen.Destination);
            Assert.Equal(harness.Bus.Address, seen.Input);
        }
        finally
        {
            handle.Disconnect();
        }
    }

    [Fact]
    public async Task Many_messages_sent_concurrently_are_each_consumed_exactly_once()
    {
        const int count = 200;

        await using var provider = await Binding.StartHarness(x => x.AddConsumer<BulkConsumer>().Endpoint(e => e.Name = "bulk"),
            services: services => services.AddSingleton<Recorder<Guid>>());
        var harness = provider.GetRequiredService<ITestHarness>();
        var recorder = provider.GetRequiredService<Recorder<Guid>>();

        var endpoint = await harness.Bus.GetSendEndpoint(new Uri("queue:bulk"));
        var messageIds = Enumerable.Range(0, count).Select(_ => NewId.NextGuid()).ToArray();

        await Task.WhenAll(messageIds.Select((id, index) => endpoint.Send(new BulkItem(index), ctx => ctx.MessageId = id)));

        var consumed = await recorder.WaitFor(x => x.Distinct().Count() >= count, $"{count} distinct message ids");

        var perMessage = consumed.GroupBy(x => x).ToDictionary(x => x.Key, x => x.Count());
        var missing = messageIds.Where(id => !perMessage.ContainsKey(id)).ToList();
        var duplicates = perMessage.Where(x => x.Value != 1).Select(x => $"{x.Key} x{x.Value}").ToList();
        var unexpected = perMessage.Keys.Except(messageIds).ToList();

        Assert.Empty(missing);
        Assert.Empty(duplicates);
        Assert.Empty(unexpected);
        Assert.Equal(count, consumed.Count);
    }


    static string? WithoutQuery(Uri? address) => address?.GetLeftPart(UriPartial.Path);


    public record SubmitOrder(Guid OrderId);


    public record SeenAddresses(Guid Id, Uri? Destination, Uri Input, Uri? Source);


    public class OrderConsumer :
        IConsumer<SubmitOrder>
    {
        public Task Consume(ConsumeContext<SubmitOrder> context) => Task.CompletedTask;
    }


    public class BulkConsumer :
        IConsumer<BulkItem>
    {
        readonly Recorder<Guid> _recorder;

        public BulkConsumer(Recorder<Guid> recorder)
        {
            _recorder = recorder;
        }

        public Task Consume(ConsumeContext<BulkItem> context)
        {
            _recorder.Add(context.MessageId ?? Guid.Empty);
            return Task.CompletedTask;
        }
    }
}


public class RedisSendReceive : SendReceiveContract<RedisBinding>;

public class InMemorySendReceive : SendReceiveContract<InMemoryBinding>;
