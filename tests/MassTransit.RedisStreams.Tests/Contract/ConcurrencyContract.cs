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

    async Task<(int Max, int Consumed)> Run(int concurrentMessageLimit, int prefetchCount, int messages, TimeSpan workTime)
    {
        await using var provider = await Binding.StartHarness(x => x.AddConsumer<ResizeConsumer>().Endpoint(e =>
        {
            e.Name = "resize";
            e.ConcurrentMessageLimit = concurrentMessageLimit;
            e.PrefetchCount = prefetchCount;
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
