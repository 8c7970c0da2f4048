namespace MassTransit.RedisStreams.Tests.Contract;

using System;
using System.Runtime.Serialization;
using System.Threading.Tasks;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


public record PingParcel(Guid ParcelId);


public record UnwantedParcel(Guid ParcelId);


/// <summary>
/// A message read back from an endpoint's <c>_error</c> or <c>_skipped</c> queue carries everything its envelope carried
/// when it was first received: destination, source, response and fault addresses, IDs and times. MassTransit's
/// <c>ErrorQueue_Specs</c> (<c>Should_have_the_original_destination_address</c> and its siblings), on every binding.
/// </summary>
public abstract class ErrorQueueContract<TBinding>
    where TBinding : ITransportBinding, new()
{
    const string Input = "parcel-input";

    protected TBinding Binding { get; } = new();

    [Fact]
    public async Task A_message_read_back_from_the_error_queue_has_its_original_destination_and_envelope()
    {
        await using var provider = await Start();
        var harness = provider.GetRequiredService<ITestHarness>();
        var first = provider.GetRequiredService<Recorder<SeenParcel>>();
        var moved = provider.GetRequiredService<Recorder<MovedParcel>>();

        var parcelId = Guid.NewGuid();
        var correlationId = NewId.NextGuid();
        await (await harness.Bus.GetSendEndpoint(new Uri($"queue:{Input}"))).Send(new PingParcel(parcelId), context =>
        {
            context.CorrelationId = correlationId;
            context.ResponseAddress = harness.Bus.Address;
            context.FaultAddress = harness.Bus.Address;
            context.TimeToLive = TimeSpan.FromHours(1);
        });

        var original = Assert.Single(await first.WaitForCount(1));
        var error = Assert.Single(await moved.WaitFor(x => x.Count >= 1, "the message on the error queue"));

        // The input address may carry query parameters (in memory: ?bind=true) that a destination address does not.
        Assert.Equal(original.InputAddress.GetLeftPart(UriPartial.Path), original.Envelope.DestinationAddress?.GetLeftPart(UriPartial.Path));
        Assert.Equal(original.Envelope.DestinationAddress, error.Envelope.DestinationAddress);
        Assert.Equal(original.Envelope, error.Envelope);
        Assert.Equal(correlationId, error.Envelope.CorrelationId);
        Assert.Equal(harness.Bus.Address, error.Envelope.SourceAddress);
        Assert.Equal(harness.Bus.Address, error.Envelope.ResponseAddress);
        Assert.Equal(harness.Bus.Address, error.Envelope.FaultAddress);
        Assert.NotNull(error.Envelope.ExpirationTime);
        Assert.Equal("fault", error.Reason);
        Assert.Equal(original.InputAddress.GetLeftPart(UriPartial.Path), error.FaultInputAddress?.GetLeftPart(UriPartial.Path));
        Assert.Equal("This is fine, forcing death", error.FaultMessage);
    }

    [Fact]
    public async Task A_message_read_back_from_the_skipped_queue_has_its_original_destination_and_envelope()
    {
        await using var provider = await Start();
        var harness = provider.GetRequiredService<ITestHarness>();
        var moved = provider.GetRequiredService<Recorder<MovedParcel>>();

        var parcelId = Guid.NewGuid();
        var correlationId = NewId.NextGuid();
        await (await harness.Bus.GetSendEndpoint(new Uri($"queue:{Input}"))).Send(new UnwantedParcel(parcelId), context =>
        {
            context.CorrelationId = correlationId;
            context.ResponseAddress = harness.Bus.Address;
            context.FaultAddress = harness.Bus.Address;
        });

        var skipped = Assert.Single(await moved.WaitFor(x => x.Count >= 1, "the message on the skipped queue"));

        Assert.Equal(Input, skipped.Envelope.DestinationAddress?.AbsolutePath.TrimEnd('/').Split('/')[^1]);
        Assert.Equal(correlationId, skipped.Envelope.CorrelationId);
        Assert.Equal(harness.Bus.Address, skipped.Envelope.SourceAddress);
        Assert.Equal(harness.Bus.Address, skipped.Envelope.ResponseAddress);
        Assert.Equal(harness.Bus.Address, skipped.Envelope.FaultAddress);
        Assert.Equal("dead-letter", skipped.Reason);
    }

    Task<ServiceProvider> Start()
    {
        return Binding.StartHarness(_ => { }, (context, cfg) =>
        {
            var first = context.GetRequiredService<Recorder<SeenParcel>>();
            var moved = context.GetRequiredService<Recorder<MovedParcel>>();

            cfg.ReceiveEndpoint(Input, e =>
            {
                e.Handler<PingParcel>(ctx =>
                {
                    first.Add(new SeenParcel(ctx.ReceiveContext.InputAddress, ParcelEnvelope.Of(ctx)));
                    throw new SerializationException("This is fine, forcing death");
                });
            });

            foreach (var queue in new[] { Input + "_error", Input + "_skipped" })
            {
                cfg.ReceiveEndpoint(queue, e =>
                {
                    e.ConfigureConsumeTopology = false;
                    e.Handler<PingParcel>(ctx =>
                    {
                        moved.Add(MovedParcel.Of(ctx));
                        return Task.CompletedTask;
                    });
                    e.Handler<UnwantedParcel>(ctx =>
                    {
                        moved.Add(MovedParcel.Of(ctx));
                        return Task.CompletedTask;
                    });
                });
            }
        }, services =>
        {
            services.AddSingleton<Recorder<SeenParcel>>();
            services.AddSingleton<Recorder<MovedParcel>>();
        });
    }
}


/// <summary>What a consume context says of the message's envelope.</summary>
public record ParcelEnvelope(Guid? MessageId, Guid? CorrelationId, Guid? ConversationId, Uri? DestinationAddress, Uri? SourceAddress,
    Uri? ResponseAddress, Uri? FaultAddress, DateTime? SentTime, DateTime? ExpirationTime, string? MachineName)
{
    public static ParcelEnvelope Of(ConsumeContext context) => new(context.MessageId, context.CorrelationId, context.ConversationId,
        context.DestinationAddress, context.SourceAddress, context.ResponseAddress, context.FaultAddress, Truncate(context.SentTime),
        Truncate(context.ExpirationTime), context.Host?.MachineName);

    // Formats keep times to the millisecond or better; compare them at that.
    static DateTime? Truncate(DateTime? time) => time is { } value ? new DateTime(value.Ticks - value.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc) : null;
}


public record SeenParcel(Uri InputAddress, ParcelEnvelope Envelope);


public record MovedParcel(ParcelEnvelope Envelope, string? Reason, Uri? FaultInputAddress, string? FaultMessage)
{
    public static MovedParcel Of(ConsumeContext context)
    {
        var headers = context.ReceiveContext.TransportHeaders;
        return new MovedParcel(ParcelEnvelope.Of(context), headers.Get<string>(MessageHeaders.Reason), headers.Get<Uri>(MessageHeaders.FaultInputAddress),
            headers.Get<string>(MessageHeaders.FaultMessage));
    }
}


public class RedisErrorQueue : ErrorQueueContract<RedisBinding>;

public class InMemoryErrorQueue : ErrorQueueContract<InMemoryBinding>;
