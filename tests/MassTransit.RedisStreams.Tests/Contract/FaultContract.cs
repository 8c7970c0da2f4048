namespace MassTransit.RedisStreams.Tests.Contract;

using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


public record ChargeCard(Guid PaymentId, decimal Amount);


public record RefundCard(Guid PaymentId);


public abstract class FaultContract<TBinding>
    where TBinding : ITransportBinding, new()
{
    const string Endpoint = "charge-card";
    const string ErrorEndpoint = Endpoint + "_error";
    const string SkippedEndpoint = Endpoint + "_skipped";

    protected TBinding Binding { get; } = new();

    [Fact]
    public async Task A_consumer_that_always_throws_is_retried_then_a_fault_is_published()
    {
        await using var provider = await StartFailingEndpoint();
        var harness = provider.GetRequiredService<ITestHarness>();
        var attempts = provider.GetRequiredService<Attempts>();
        var faults = provider.GetRequiredService<Recorder<Fault<ChargeCard>>>();

        var paymentId = Guid.NewGuid();
        await (await harness.Bus.GetSendEndpoint(new Uri($"queue:{Endpoint}"))).Send(new ChargeCard(paymentId, 9.99m));

        var fault = Assert.Single(await faults.WaitForCount(1));

        Assert.Equal(3, attempts.Count);
        Assert.Equal(paymentId, fault.Message.PaymentId);
        Assert.Equal(9.99m, fault.Message.Amount);
        Assert.Equal(CardDeclinedMessage(paymentId), fault.Exceptions[0].Message);
        Assert.Equal(typeof(InvalidOperationException).FullName, fault.Exceptions[0].ExceptionType);
        Assert.True(await harness.Published.Any<Fault<ChargeCard>>());
    }

    [Fact]
    public async Task A_message_whose_consumer_throws_lands_on_the_error_queue_with_the_fault_headers()
    {
        await using var provider = await StartFailingEndpoint();
        var harness = provider.GetRequiredService<ITestHarness>();
        var errors = provider.GetRequiredService<Recorder<Moved>>();

        var paymentId = Guid.NewGuid();
        await (await harness.Bus.GetSendEndpoint(new Uri($"queue:{Endpoint}"))).Send(new ChargeCard(paymentId, 5m));

        var moved = Assert.Single(await errors.WaitForCount(1));

        Assert.Equal(paymentId, moved.PaymentId);
        Assert.Equal("fault", moved.Reason);
        Assert.Equal(typeof(InvalidOperationException).FullName, moved.ExceptionType);
        Assert.Equal(CardDeclinedMessage(paymentId), moved.ExceptionMessage);
        Assert.False(string.IsNullOrWhiteSpace(moved.StackTrace));
        Assert.Contains(nameof(AlwaysDeclinesConsumer), moved.StackTrace);
        Assert.Equal(Environment.MachineName, moved.MachineName);
    }

    [Fact]
    public async Task A_message_no_consumer_on_the_endpoint_wants_lands_on_the_skipped_queue()
    {
        await using var provider = await StartFailingEndpoint();
        var harness = provider.GetRequiredService<ITestHarness>();
        var skipped = provider.GetRequiredService<Recorder<Moved>>();

        var paymentId = Guid.NewGuid();
        await (await harness.Bus.GetSendEndpoint(new Uri($"queue:{Endpoint}"))).Send(new RefundCard(paymentId));

        var moved = Assert.Single(await skipped.WaitForCount(1));

        Assert.Equal(paymentId, moved.PaymentId);
        Assert.Equal(SkippedEndpoint, moved.Endpoint);

        // MassTransit's DeadLetterTransportFilter gives "dead-letter" as the reason for a skipped message.
        Assert.Equal("dead-letter", moved.Reason);
        Assert.Equal(Environment.MachineName, moved.MachineName);
        Assert.Null(moved.ExceptionType);
        Assert.Equal(0, provider.GetRequiredService<Attempts>().Count);
    }

    Task<ServiceProvider> StartFailingEndpoint()
    {
        return Binding.StartHarness(x =>
        {
            x.AddConsumer<AlwaysDeclinesConsumer>((_, c) => c.UseMessageRetry(r => r.Immediate(2))).Endpoint(e => e.Name = Endpoint);
            x.AddConsumer<ChargeFaultConsumer>();
        }, (context, cfg) =>
        {
            var moved = context.GetRequiredService<Recorder<Moved>>();

            cfg.ReceiveEndpoint(ErrorEndpoint, e =>
            {
                e.ConfigureConsumeTopology = false;
                e.Handler<ChargeCard>(ctx =>
                {
                    moved.Add(Capture(ctx, ctx.Message.PaymentId));
                    return Task.CompletedTask;
                });
            });

            cfg.ReceiveEndpoint(SkippedEndpoint, e =>
            {
                e.ConfigureConsumeTopology = false;
                e.Handler<RefundCard>(ctx =>
                {
                    moved.Add(Capture(ctx, ctx.Message.PaymentId));
                    return Task.CompletedTask;
                });
            });
        }, services =>
        {
            services.AddSingleton<Attempts>();
            services.AddSingleton<Recorder<Moved>>();
            services.AddSingleton<Recorder<Fault<ChargeCard>>>();
        });
    }

    static Moved Capture(ConsumeContext context, Guid paymentId)
    {
        var headers = context.ReceiveContext.TransportHeaders;

        return new Moved(paymentId,
            context.ReceiveContext.InputAddress.AbsolutePath.TrimEnd('/').Split('/').Last(),
            headers.Get<string>(MessageHeaders.Reason),
            headers.Get<string>(MessageHeaders.FaultExceptionType),
            headers.Get<string>(MessageHeaders.FaultMessage),
            headers.Get<string>(MessageHeaders.FaultStackTrace),
            headers.Get<string>(MessageHeaders.Host.MachineName));
    }

    static string CardDeclinedMessage(Guid paymentId) => $"Card declined for payment {paymentId}";


    public sealed class Attempts
    {
        int _count;

        public int Count => Volatile.Read(ref _count);

        public void Add() => Interlocked.Increment(ref _count);
    }


    public record Moved(Guid PaymentId, string Endpoint, string? Reason, string? ExceptionType, string? ExceptionMessage, string? StackTrace,
        string? MachineName);


    public class AlwaysDeclinesConsumer :
        IConsumer<ChargeCard>
    {
        readonly Attempts _attempts;

        public AlwaysDeclinesConsumer(Attempts attempts)
        {
            _attempts = attempts;
        }

        public Task Consume(ConsumeContext<ChargeCard> context)
        {
            _attempts.Add();
            throw new InvalidOperationException(CardDeclinedMessage(context.Message.PaymentId));
        }
    }


    public class ChargeFaultConsumer :
        IConsumer<Fault<ChargeCard>>
    {
        readonly Recorder<Fault<ChargeCard>> _recorder;

        public ChargeFaultConsumer(Recorder<Fault<ChargeCard>> recorder)
        {
            _recorder = recorder;
        }

        public Task Consume(ConsumeContext<Fault<ChargeCard>> context)
        {
            _recorder.Add(context.Message);
            return Task.CompletedTask;
        }
    }
}


public class RedisFault : FaultContract<RedisBinding>;

public class InMemoryFault : FaultContract<InMemoryBinding>;
