namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Threading;
using System.Threading.Tasks;
using Contract;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


public record CrateShipped(Guid CrateId);


/// <summary>
/// Everything the envelope of a message carries — destination, source, response and fault addresses, IDs, sent and
/// expiration times, host — comes back unchanged wherever its entry is read: a requeue from <c>_error</c> back to its queue,
/// the event history, and a replay to another endpoint. (The error and skipped queues themselves: <c>ErrorQueueContract</c>.)
/// </summary>
public class EnvelopeRoundTripTests
{
    [Fact]
    public async Task A_message_requeued_from_the_error_queue_is_received_with_the_envelope_it_was_first_received_with()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await redis.StartHarness(_ => { }, (context, cfg) =>
        {
            var seen = context.GetRequiredService<Recorder<ParcelEnvelope>>();
            var failFirst = 1;
            cfg.ReceiveEndpoint("parcel-desk", e => e.Handler<PingParcel>(ctx =>
            {
                seen.Add(ParcelEnvelope.Of(ctx));
                if (Interlocked.Exchange(ref failFirst, 0) == 1)
                    throw new InvalidOperationException("the desk is closed");
                return Task.CompletedTask;
            }));
        }, services: s => s.AddSingleton<Recorder<ParcelEnvelope>>());

        var harness = provider.GetRequiredService<ITestHarness>();
        var seen = provider.GetRequiredService<Recorder<ParcelEnvelope>>();
        await (await harness.Bus.GetSendEndpoint(new Uri("queue:parcel-desk"))).Send(new PingParcel(Guid.NewGuid()), Envelope<PingParcel>(harness.Bus.Address));

        await seen.WaitForCount(1);
        var admin = provider.GetRequiredService<IRedisStreamsAdmin>();
        Assert.True(await Eventually.True(async () => await admin.Requeue("parcel-desk") == 1, TimeSpan.FromSeconds(10)), "requeued");

        var received = await seen.WaitForCount(2);
        Assert.Equal(received[0], received[1]);
        Assert.EndsWith("/parcel-desk", received[1].DestinationAddress!.AbsolutePath);
        Assert.NotNull(received[1].ExpirationTime);
    }

    [Fact]
    public async Task A_published_event_keeps_its_envelope_in_the_history_and_in_a_replay()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await redis.StartHarness(_ => { }, (context, cfg) =>
        {
            var seen = context.GetRequiredService<Recorder<(string Endpoint, ParcelEnvelope Envelope)>>();
            foreach (var endpoint in new[] { "crate-tracker", "crate-audit" })
            {
                cfg.ReceiveEndpoint(endpoint, e => e.Handler<CrateShipped>(ctx =>
                {
                    seen.Add((endpoint, ParcelEnvelope.Of(ctx)));
                    return Task.CompletedTask;
                }));
            }
        }, services: s => s.AddSingleton<Recorder<(string Endpoint, ParcelEnvelope Envelope)>>());

        var harness = provider.GetRequiredService<ITestHarness>();
        var seen = provider.GetRequiredService<Recorder<(string Endpoint, ParcelEnvelope Envelope)>>();
        await harness.Bus.Publish(new CrateShipped(Guid.NewGuid()), Envelope<CrateShipped>(harness.Bus.Address));
        var consumed = (await seen.WaitForCount(2))[0].Envelope;
        Assert.EndsWith(":CrateShipped", consumed.DestinationAddress!.AbsolutePath);

        var history = provider.GetRequiredService<IRedisStreamsEventHistory>();
        var stored = Assert.Single(await history.GetEvents<CrateShipped>());
        Assert.Equal(consumed, new ParcelEnvelope(stored.MessageId, stored.CorrelationId, stored.ConversationId, stored.DestinationAddress,
            stored.SourceAddress, stored.ResponseAddress, stored.FaultAddress, Truncate(stored.SentTime), Truncate(stored.ExpirationTime),
            consumed.MachineName));

        Assert.Equal(1, await history.Replay<CrateShipped>("crate-audit"));
        var replayed = (await seen.WaitForCount(3))[^1];
        Assert.Equal("crate-audit", replayed.Endpoint);
        Assert.Equal(consumed, replayed.Envelope);
    }

    static Action<SendContext<T>> Envelope<T>(Uri busAddress)
        where T : class => context =>
    {
        context.CorrelationId = NewId.NextGuid();
        context.ResponseAddress = busAddress;
        context.FaultAddress = busAddress;
        context.TimeToLive = TimeSpan.FromHours(1);
    };

    static DateTime? Truncate(DateTime? time) =>
        time is { } value ? new DateTime(value.Ticks - value.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc) : null;
}
