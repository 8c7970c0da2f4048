namespace MassTransit.RedisStreams.Tests.Contract;

using System;
using System.Threading.Tasks;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


public record ShipParcel(Guid ParcelId);


public record ParcelShipped(Guid ParcelId);


public record TrackParcel(Guid ParcelId);


public record ParcelPosition(Guid ParcelId, string Where);


public abstract class HeadersContract<TBinding>
    where TBinding : ITransportBinding, new()
{
    const string EnvelopeContentType = "application/vnd.masstransit+json";
    const string RawJsonContentType = "application/json";

    static readonly DateTime CustomDate = new(2024, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc);

    protected TBinding Binding { get; } = new();

    /// <summary>The content type a message sent with the transport's default serializer arrives with.</summary>
    protected virtual string DefaultContentType => EnvelopeContentType;

    [Fact]
    public async Task Every_header_set_on_send_survives_the_trip()
    {
        await using var provider = await Binding.StartHarness(x => x.AddConsumer<ShipParcelConsumer>().Endpoint(e => e.Name = "ship-parcel"),
            services: services => services.AddSingleton<Recorder<Captured>>());

        var harness = provider.GetRequiredService<ITestHarness>();
        var recorder = provider.GetRequiredService<Recorder<Captured>>();

        var parcelId = Guid.NewGuid();
        var messageId = NewId.NextGuid();
        var correlationId = Guid.NewGuid();
        var customGuid = Guid.NewGuid();
        var responseAddress = new Uri(harness.Bus.Address, "parcel-replies");
        var faultAddress = new Uri(harness.Bus.Address, "parcel-faults");
        var timeToLive = TimeSpan.FromMinutes(10);

        var sentAt = DateTime.UtcNow;
        await (await harness.Bus.GetSendEndpoint(new Uri("queue:ship-parcel"))).Send(new ShipParcel(parcelId), ctx =>
        {
            ctx.MessageId = messageId;
            ctx.CorrelationId = correlationId;
            ctx.ResponseAddress = responseAddress;
            ctx.FaultAddress = faultAddress;
            ctx.TimeToLive = timeToLive;
            ctx.Headers.Set("X-Text", "café & crème");
            ctx.Headers.Set("X-Number", 42);
            ctx.Headers.Set("X-Guid", customGuid);
            ctx.Headers.Set("X-Date", CustomDate);
            ctx.Headers.Set("X-Flag", true);
        });

        var captured = Assert.Single(await recorder.WaitForCount(1));

        Assert.Equal(parcelId, captured.ParcelId);
        Assert.Equal(messageId, captured.MessageId);
        Assert.Equal(correlationId, captured.CorrelationId);
        Assert.NotNull(captured.ConversationId);
        Assert.Null(captured.InitiatorId);
        Assert.Null(captured.RequestId);
        Assert.Equal(harness.Bus.Address, captured.SourceAddress);
        Assert.EndsWith("/ship-parcel", captured.InputAddress.GetLeftPart(UriPartial.Path));
        Assert.Equal(captured.InputAddress.GetLeftPart(UriPartial.Path), captured.DestinationAddress?.GetLeftPart(UriPartial.Path));
        Assert.Equal(responseAddress, captured.ResponseAddress);
        Assert.Equal(faultAddress, captured.FaultAddress);

        Assert.NotNull(captured.SentTime);
        Assert.InRange(captured.SentTime.Value.ToUniversalTime(), sentAt.AddSeconds(-5), DateTime.UtcNow.AddSeconds(5));

        Assert.NotNull(captured.ExpirationTime);
        Assert.InRange(captured.ExpirationTime.Value.ToUniversalTime(), sentAt + timeToLive - TimeSpan.FromSeconds(5),
            DateTime.UtcNow + timeToLive + TimeSpan.FromSeconds(5));

        Assert.Equal("café & crème", captured.Text);
        Assert.Equal(42, captured.Number);
        Assert.Equal(customGuid, captured.CustomGuid);
        Assert.Equal(CustomDate, captured.Date?.ToUniversalTime());
        Assert.True(captured.Flag);

        Assert.Equal(DefaultContentType, captured.ContentType);
    }

    [Fact]
    public async Task A_message_sent_from_a_consumer_carries_the_initiator_and_the_conversation()
    {
        await using var provider = await Binding.StartHarness(x =>
        {
            x.AddConsumer<ShipParcelConsumer>().Endpoint(e => e.Name = "ship-parcel");
            x.AddConsumer<ParcelShippedConsumer>().Endpoint(e => e.Name = "parcel-shipped");
        }, services: services => services.AddSingleton<Recorder<Captured>>());

        var harness = provider.GetRequiredService<ITestHarness>();
        var recorder = provider.GetRequiredService<Recorder<Captured>>();

        var parcelId = Guid.NewGuid();
        var correlationId = Guid.NewGuid();
        await (await harness.Bus.GetSendEndpoint(new Uri("queue:ship-parcel"))).Send(new ShipParcel(parcelId), ctx =>
        {
            ctx.CorrelationId = correlationId;
            ctx.Headers.Set("X-Forward", true);
        });

        var captured = await recorder.WaitFor(x => x.Count >= 2, "ShipParcel and the ParcelShipped its consumer sent");
        var initiator = Assert.Single(captured, x => x.MessageType == nameof(ShipParcel));
        var followUp = Assert.Single(captured, x => x.MessageType == nameof(ParcelShipped));

        Assert.Equal(parcelId, followUp.ParcelId);
        // MassTransit makes the consumed message's CorrelationId (or else its RequestId) the initiator of what the consumer sends.
        Assert.Equal(correlationId, initiator.CorrelationId);
        Assert.Equal(correlationId, followUp.InitiatorId);
        Assert.NotNull(initiator.ConversationId);
        Assert.Equal(initiator.ConversationId, followUp.ConversationId);
        Assert.NotEqual(initiator.MessageId, followUp.MessageId);
        Assert.Equal(initiator.InputAddress, followUp.SourceAddress);
    }

    [Fact]
    public Task A_request_carries_its_request_id_and_response_address_to_the_consumer()
    {
        return AssertRequestCarriesItsIdAndResponseAddress(null, DefaultContentType);
    }

    [Fact]
    public async Task With_raw_json_the_transport_headers_carry_ids_addresses_and_custom_headers()
    {
        await using var provider = await Binding.StartHarness(x => x.AddConsumer<ShipParcelConsumer>().Endpoint(e => e.Name = "ship-parcel"),
            (_, cfg) => cfg.UseRawJsonSerializer(),
            services => services.AddSingleton<Recorder<Captured>>());

        var harness = provider.GetRequiredService<ITestHarness>();
        var recorder = provider.GetRequiredService<Recorder<Captured>>();

        var parcelId = Guid.NewGuid();
        var messageId = NewId.NextGuid();
        var correlationId = Guid.NewGuid();
        var responseAddress = new Uri(harness.Bus.Address, "parcel-replies");

        await (await harness.Bus.GetSendEndpoint(new Uri("queue:ship-parcel"))).Send(new ShipParcel(parcelId), ctx =>
        {
            ctx.MessageId = messageId;
            ctx.CorrelationId = correlationId;
            ctx.ResponseAddress = responseAddress;
            ctx.Headers.Set("X-Text", "raw text");
        });

        var captured = Assert.Single(await recorder.WaitForCount(1));

        Assert.Equal(parcelId, captured.ParcelId);
        Assert.Equal(messageId, captured.MessageId);
        Assert.Equal(correlationId, captured.CorrelationId);
        Assert.Equal(responseAddress, captured.ResponseAddress);
        Assert.Equal("raw text", captured.Text);
        Assert.Equal(RawJsonContentType, captured.ContentType);
    }

    [Fact]
    public Task With_raw_json_a_request_carries_its_request_id_and_gets_its_response()
    {
        return AssertRequestCarriesItsIdAndResponseAddress((_, cfg) => cfg.UseRawJsonSerializer(), null);
    }

    async Task AssertRequestCarriesItsIdAndResponseAddress(Action<IBusRegistrationContext, IBusFactoryConfigurator>? configure,
        string? expectedContentType)
    {
        await using var provider = await Binding.StartHarness(x => x.AddConsumer<TrackParcelConsumer>().Endpoint(e => e.Name = "track-parcel"),
            configure, services => services.AddSingleton<Recorder<Captured>>());

        var harness = provider.GetRequiredService<ITestHarness>();
        var recorder = provider.GetRequiredService<Recorder<Captured>>();

        var parcelId = Guid.NewGuid();
        var response = await harness.GetRequestClient<TrackParcel>().GetResponse<ParcelPosition>(new TrackParcel(parcelId));

        var captured = Assert.Single(recorder.Items);

        Assert.Equal(parcelId, response.Message.ParcelId);
        Assert.NotNull(captured.RequestId);
        Assert.Equal(captured.RequestId, response.RequestId);
        Assert.Equal(harness.Bus.Address, captured.ResponseAddress);
        if (expectedContentType != null)
            Assert.Equal(expectedContentType, captured.ContentType);
    }

    static Captured Capture(ConsumeContext context, string messageType, Guid parcelId)
    {
        return new Captured(messageType, parcelId,
            context.MessageId, context.CorrelationId, context.ConversationId, context.InitiatorId, context.RequestId,
            context.SourceAddress, context.DestinationAddress, context.ResponseAddress, context.FaultAddress, context.ReceiveContext.InputAddress,
            context.SentTime, context.ExpirationTime,
            context.Headers.Get<string>("X-Text"),
            context.Headers.Get<int>("X-Number"),
            context.Headers.Get<Guid>("X-Guid"),
            context.Headers.Get<DateTime>("X-Date"),
            context.Headers.Get<bool>("X-Flag"),
            context.ReceiveContext.ContentType?.MediaType);
    }


    public record Captured(
        string MessageType,
        Guid ParcelId,
        Guid? MessageId,
        Guid? CorrelationId,
        Guid? ConversationId,
        Guid? InitiatorId,
        Guid? RequestId,
        Uri? SourceAddress,
        Uri? DestinationAddress,
        Uri? ResponseAddress,
        Uri? FaultAddress,
        Uri InputAddress,
        DateTime? SentTime,
        DateTime? ExpirationTime,
        string? Text,
        int? Number,
        Guid? CustomGuid,
        DateTime? Date,
        bool? Flag,
        string? ContentType);


    public class ShipParcelConsumer :
        IConsumer<ShipParcel>
    {
        readonly Recorder<Captured> _recorder;

        public ShipParcelConsumer(Recorder<Captured> recorder)
        {
            _recorder = recorder;
        }

        public async Task Consume(ConsumeContext<ShipParcel> context)
        {
            _recorder.Add(Capture(context, nameof(ShipParcel), context.Message.ParcelId));

            if (context.Headers.Get<bool>("X-Forward") == true)
                await context.Send(new Uri("queue:parcel-shipped"), new ParcelShipped(context.Message.ParcelId));
        }
    }


    public class ParcelShippedConsumer :
        IConsumer<ParcelShipped>
    {
        readonly Recorder<Captured> _recorder;

        public ParcelShippedConsumer(Recorder<Captured> recorder)
        {
            _recorder = recorder;
        }

        public Task Consume(ConsumeContext<ParcelShipped> context)
        {
            _recorder.Add(Capture(context, nameof(ParcelShipped), context.Message.ParcelId));
            return Task.CompletedTask;
        }
    }


    public class TrackParcelConsumer :
        IConsumer<TrackParcel>
    {
        readonly Recorder<Captured> _recorder;

        public TrackParcelConsumer(Recorder<Captured> recorder)
        {
            _recorder = recorder;
        }

        public Task Consume(ConsumeContext<TrackParcel> context)
        {
            _recorder.Add(Capture(context, nameof(TrackParcel), context.Message.ParcelId));
            return context.RespondAsync(new ParcelPosition(context.Message.ParcelId, "depot"));
        }
    }
}


public class RedisHeaders : HeadersContract<RedisBinding>
{
    // The transport's own format: the message's JSON in the body, the headers as entry fields.
    protected override string DefaultContentType => "application/vnd.masstransit.redis-streams+json";
}

public class InMemoryHeaders : HeadersContract<InMemoryBinding>;
