namespace MassTransit.RedisStreams.Tests.Contract;

using System;
using System.Linq;
using System.Threading.Tasks;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


public record LotOpened(int Sequence);


public record BidPlaced(int Sequence);


public record CloseLot(int Sequence);


/// <summary>
/// An endpoint with a concurrent message limit of one receives the messages one publisher sent and published to it in the
/// order the sends and publishes completed, across message types and across send and publish.
/// </summary>
public abstract class OrderContract<TBinding>
    where TBinding : ITransportBinding, new()
{
    protected TBinding Binding { get; } = new();

    [Fact]
    public async Task A_single_threaded_endpoint_receives_published_and_sent_messages_of_several_types_in_the_order_they_were_sent()
    {
        const int count = 1000;

        await using var provider = await Binding.StartHarness(x => x.AddConsumer<LotConsumer>().Endpoint(e =>
        {
            e.Name = "lot-history";
            e.ConcurrentMessageLimit = 1;
        }), services: services => services.AddSingleton<Recorder<int>>());

        var harness = provider.GetRequiredService<ITestHarness>();
        var recorder = provider.GetRequiredService<Recorder<int>>();
        var queue = await harness.Bus.GetSendEndpoint(new Uri("queue:lot-history"));

        // One after another, each awaited: two published types and one sent, interleaved. The consumer takes a little time
        // for each, so a backlog over all three streams builds up while the publisher runs.
        for (var i = 0; i < count; i++)
        {
            switch (i % 3)
            {
                case 0:
                    await harness.Bus.Publish(new LotOpened(i));
                    break;
                case 1:
                    await harness.Bus.Publish(new BidPlaced(i));
                    break;
                default:
                    await queue.Send(new CloseLot(i));
                    break;
            }
        }

        var received = await recorder.WaitForCount(count);

        var firstOutOfOrder = Enumerable.Range(0, count).FirstOrDefault(i => received[i] != i, -1);
        Assert.True(firstOutOfOrder < 0,
            $"received out of order at position {firstOutOfOrder}: ... {string.Join(", ", received.Skip(Math.Max(0, firstOutOfOrder - 3)).Take(8))} ...");
        Assert.Equal(count, received.Count);
    }


    public class LotConsumer :
        IConsumer<LotOpened>,
        IConsumer<BidPlaced>,
        IConsumer<CloseLot>
    {
        readonly Recorder<int> _recorder;

        public LotConsumer(Recorder<int> recorder)
        {
            _recorder = recorder;
        }

        public Task Consume(ConsumeContext<BidPlaced> context) => Record(context.Message.Sequence);

        public Task Consume(ConsumeContext<CloseLot> context) => Record(context.Message.Sequence);

        public Task Consume(ConsumeContext<LotOpened> context) => Record(context.Message.Sequence);

        async Task Record(int sequence)
        {
            _recorder.Add(sequence);

            // Now and then slower than the publisher, so that the endpoint reads a backlog spread over all three streams.
            if (sequence % 10 == 0)
                await Task.Delay(5);
        }
    }
}


public class RedisOrder : OrderContract<RedisBinding>;

public class InMemoryOrder : OrderContract<InMemoryBinding>;
