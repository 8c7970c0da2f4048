namespace MassTransit.RedisStreams.Tests.Contract;

using System;
using System.Linq;
using System.Threading.Tasks;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


public record ResizeImage(int Index);


public abstract class ConcurrencyContract<TBinding>
    where TBinding : ITransportBinding, new()
{
    protected TBinding Binding { get; } = new();

    [Fact]
    public async Task An_endpoint_runs_at_most_its_concurrent_message_limit_at_once()
    {
        var (max, consumed) = await Run(concurrentMessageLimit: 3, prefetchCount: 8, messages: 40, workTime: TimeSpan.FromMilliseconds(40));

        Assert.Equal(40, consumed);
        Assert.InRange(max, 2, 3);
    }

    [Fact]
    public async Task An_endpoint_with_a_concurrent_message_limit_of_one_consumes_one_message_at_a_time()
    {
        var (max, consumed) = await Run(concurrentMessageLimit: 1, prefetchCount: 8, messages: 20, workTime: TimeSpan.FromMilliseconds(25));

        Assert.Equal(20, consumed);
        Assert.Equal(1, max);
    }

    [Fact]
    public async Task An_endpoint_that_sets_no_limit_runs_as_many_handlers_at_once_as_MassTransit_does_by_default()
    {
        // MassTransit's own default, whatever the transport reads ahead: an application switched from RabbitMQ keeps it.
        var expected = Math.Max(Environment.ProcessorCount * 2, 16);

        var (max, consumed) = await Run(null, null, messages: expected * 4, workTime: TimeSpan.FromMilliseconds(150));

        Assert.Equal(expected * 4, consumed);
        Assert.InRange(max, expected * 3 / 4, expected);
    }

    [Fact]
    public async Task An_endpoint_that_sets_only_its_prefetch_count_runs_that_many_handlers_at_once()
    {
        // As MassTransit has it: without a ConcurrentMessageLimit, the PrefetchCount the application set is the limit.
        const int prefetch = 24;

        var (max, consumed) = await Run(null, prefetch, messages: prefetch * 3, workTime: TimeSpan.FromMilliseconds(150));

        Assert.Equal(prefetch * 3, consumed);
        Assert.InRange(max, prefetch * 3 / 4, prefetch);
    }

    [Fact]
    public async Task A_batch_consumer_gets_as_many_messages_as_the_prefetch_count_when_the_time_limit_ends_the_batch()
    {
        // MassTransit's Batching.When_a_batch_timeout_is_reached_due_to_prefetch: ten sends, one after the other, to a batch
        // consumer that would take ten but may hold only five.
        await using var provider = await Binding.StartHarness(_ => { }, (context, cfg) =>
        {
            var batches = context.GetRequiredService<Recorder<(int Length, BatchCompletionMode Mode)>>();
            cfg.ReceiveEndpoint("resize-batch", e =>
            {
                e.PrefetchCount = 5;
                e.Batch<ResizeImage>(b =>
                {
                    b.MessageLimit = 10;
                    b.TimeLimit = TimeSpan.FromSeconds(1);
                    b.Consumer(() => new BatchConsumer(batches));
                });
            });
        }, services => services.AddSingleton<Recorder<(int Length, BatchCompletionMode Mode)>>());

        var harness = provider.GetRequiredService<ITestHarness>();
        var batches = provider.GetRequiredService<Recorder<(int Length, BatchCompletionMode Mode)>>();

        // Sent at once rather than one after the other: on a loaded machine ten sends in a row can outlast the time limit,
        // which would close a batch before the rest arrived.
        var endpoint = await harness.Bus.GetSendEndpoint(new Uri("queue:resize-batch"));
        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => endpoint.Send(new ResizeImage(i))));

        var received = await batches.WaitForCount(2);

        Assert.Equal((5, BatchCompletionMode.Time), received[0]);
        Assert.Equal((5, BatchCompletionMode.Time), received[1]);
    }

    async Task<(int Max, int Consumed)> Run(int? concurrentMessageLimit, int? prefetchCount, int messages, TimeSpan workTime)
    {
        await using var provider = await Binding.StartHarness(x => x.AddConsumer<ResizeConsumer>().Endpoint(e =>
        {
            e.Name = "resize";
            if (concurrentMessageLimit is { } limit)
                e.ConcurrentMessageLimit = limit;
            if (prefetchCount is { } prefetch)
                e.PrefetchCount = prefetch;
        }), services: services =>
        {
            services.AddSingleton(new WorkTime(workTime));
            services.AddSingleton<ConcurrencyMeter>();
            services.AddSingleton<Recorder<int>>();
        });

        var harness = provider.GetRequiredService<ITestHarness>();
        var meter = provider.GetRequiredService<ConcurrencyMeter>();
        var recorder = provider.GetRequiredService<Recorder<int>>();

        var endpoint = await harness.Bus.GetSendEndpoint(new Uri("queue:resize"));
        await Task.WhenAll(Enumerable.Range(0, messages).Select(i => endpoint.Send(new ResizeImage(i))));

        var consumed = await recorder.WaitFor(x => x.Distinct().Count() >= messages, $"{messages} messages consumed");

        return (meter.Max, consumed.Count);
    }


    public record WorkTime(TimeSpan Duration);


    public class BatchConsumer :
        IConsumer<Batch<ResizeImage>>
    {
        readonly Recorder<(int Length, BatchCompletionMode Mode)> _batches;

        public BatchConsumer(Recorder<(int Length, BatchCompletionMode Mode)> batches)
        {
            _batches = batches;
        }

        public Task Consume(ConsumeContext<Batch<ResizeImage>> context)
        {
            _batches.Add((context.Message.Length, context.Message.Mode));
            return Task.CompletedTask;
        }
    }


    public class ResizeConsumer :
        IConsumer<ResizeImage>
    {
        readonly ConcurrencyMeter _meter;
        readonly Recorder<int> _recorder;
        readonly WorkTime _workTime;

        public ResizeConsumer(ConcurrencyMeter meter, Recorder<int> recorder, WorkTime workTime)
        {
            _meter = meter;
            _recorder = recorder;
            _workTime = workTime;
        }

        public async Task Consume(ConsumeContext<ResizeImage> context)
        {
            // The delay only makes consecutive messages overlap, so that a limit that is not enforced shows.
            await _meter.Measure(() => Task.Delay(_workTime.Duration, context.CancellationToken));

            _recorder.Add(context.Message.Index);
        }
    }
}


public class RedisConcurrency : ConcurrencyContract<RedisBinding>;

public class InMemoryConcurrency : ConcurrencyContract<InMemoryBinding>;
