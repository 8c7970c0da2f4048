namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


/// <summary>
/// A message that fails after its retries goes to the endpoint's <c>_error</c> stream with MassTransit's fault headers; one
/// that no consumer wants goes to <c>_skipped</c>; both are plain streams whose entries can be sent back to the queue.
/// </summary>
public class ErrorAndSkippedStreamTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_failed_message_is_kept_in_the_error_stream_with_fault_headers_and_can_be_requeued()
    {
        var redis = await RedisTestContext.Create();
        var flaky = new FlakyConsumer.State();

        await using var provider = await redis.StartHarness(
            x => x.AddConsumer<FlakyConsumer>(c => c.UseMessageRetry(r => r.Immediate(1))).Endpoint(e => e.Name = "flaky"),
            services: s => s.AddSingleton(flaky));

        var harness = provider.GetRequiredService<ITestHarness>();
        var auctionId = Guid.NewGuid();
        await harness.Bus.Publish(new AuctionEnded(auctionId, "Broken vase", 3m));

        var db = await redis.Database();
        var errorStream = redis.Key("queue:flaky_error");

        Assert.True(await Eventually.True(async () => await db.StreamLengthAsync(errorStream) == 1, Timeout), "the message reaches flaky_error");
        Assert.Equal(2, flaky.Attempts);

        var entry = (await db.StreamRangeAsync(errorStream, "-", "+")).Single();
        Assert.Contains(auctionId.ToString(), (string?)entry["body"]);
        Assert.Equal("fault", (string?)entry[MessageHeaders.Reason]);
        Assert.Contains("InvalidOperationException", (string?)entry[MessageHeaders.FaultExceptionType]);
        Assert.Equal("The vase is broken", (string?)entry[MessageHeaders.FaultMessage]);
        Assert.False(entry[MessageHeaders.FaultStackTrace].IsNullOrEmpty);
        Assert.Equal(Environment.MachineName, (string?)entry[MessageHeaders.Host.MachineName]);

        Assert.True(await Eventually.True(async () =>
            (await db.StreamPendingAsync(redis.Key("events:AuctionEnded"), "flaky")).PendingMessageCount == 0, Timeout),
            "the original is acknowledged once it is safe in the error stream");

        flaky.Fixed = true;

        var admin = provider.GetRequiredService<IRedisStreamsAdmin>();
        Assert.Equal(1, await admin.Requeue("flaky"));

        Assert.True(await Eventually.True(() => flaky.Succeeded == 1, Timeout), "the requeued message is consumed");
        Assert.Equal(0, await db.StreamLengthAsync(errorStream));

        var requeued = (await db.StreamRangeAsync(redis.Key("queue:flaky"), "-", "+")).Single();
        Assert.True(requeued[MessageHeaders.FaultMessage].IsNull, "fault headers are removed when requeued");
        Assert.True(requeued[MessageHeaders.Host.MachineName].IsNull, "host headers of the move are removed when requeued");
    }

    [Fact]
    public async Task A_message_no_consumer_wants_is_kept_in_the_skipped_stream()
    {
        var redis = await RedisTestContext.Create();

        await using var provider = await redis.StartHarness(
            x => x.AddConsumer<NotificationConsumer>().Endpoint(e => e.Name = "notify"),
            services: s => s.AddSingleton(new DeliveryLogs()));

        var harness = provider.GetRequiredService<ITestHarness>();
        var endpoint = await harness.Bus.GetSendEndpoint(new Uri("queue:notify"));
        await endpoint.Send(new Unwanted("nobody"));

        var db = await redis.Database();
        var skipped = redis.Key("queue:notify_skipped");

        Assert.True(await Eventually.True(async () => await db.StreamLengthAsync(skipped) == 1, Timeout), "the message reaches notify_skipped");

        var entry = (await db.StreamRangeAsync(skipped, "-", "+")).Single();
        Assert.Equal("dead-letter", (string?)entry[MessageHeaders.Reason]);
        Assert.Contains("nobody", (string?)entry["body"]);
    }

    [Fact]
    public async Task Error_and_skipped_streams_take_their_names_from_the_bus_formatters_and_requeue_reads_them_there()
    {
        var redis = await RedisTestContext.Create();
        var flaky = new FlakyConsumer.State();

        await using var provider = await redis.StartHarness(
            x =>
            {
                x.AddConsumer<FlakyConsumer>().Endpoint(e => e.Name = "flaky");
                x.AddConsumer<NotificationConsumer>().Endpoint(e => e.Name = "notify");
            },
            (_, cfg) =>
            {
                cfg.SendTopology.ErrorQueueNameFormatter = new SuffixFormatter(".failed");
                cfg.SendTopology.DeadLetterQueueNameFormatter = new SuffixFormatter(".unwanted");
            },
            services: s => s.AddSingleton(flaky).AddSingleton(new DeliveryLogs()));

        var harness = provider.GetRequiredService<ITestHarness>();
        var db = await redis.Database();

        await harness.Bus.Publish(new AuctionEnded(Guid.NewGuid(), "Cracked jug", 1m));
        await (await harness.Bus.GetSendEndpoint(new Uri("queue:notify"))).Send(new Unwanted("nobody"));

        Assert.True(await Eventually.True(async () => await db.StreamLengthAsync(redis.Key("queue:flaky.failed")) == 1, Timeout),
            "the failed message is in flaky.failed");
        Assert.True(await Eventually.True(async () => await db.StreamLengthAsync(redis.Key("queue:notify.unwanted")) == 1, Timeout),
            "the unwanted message is in notify.unwanted");
        Assert.Equal(0, await db.StreamLengthAsync(redis.Key("queue:flaky_error")));

        flaky.Fixed = true;
        var admin = provider.GetRequiredService<IRedisStreamsAdmin>();

        Assert.Equal(1, await admin.Requeue("flaky"));
        Assert.True(await Eventually.True(() => flaky.Succeeded == 1, Timeout), "the requeued message is consumed");
        Assert.Equal(0, await db.StreamLengthAsync(redis.Key("queue:flaky.failed")));

        // Sent back to notify, where it is unwanted again; the queue stream holds the original and the requeued entry.
        Assert.Equal(1, await admin.Requeue("notify", RedisStreamsRequeueSource.Skipped));
        Assert.Equal(2, await db.StreamLengthAsync(redis.Key("queue:notify")));
    }


    public record Unwanted(string Note);


    sealed class SuffixFormatter :
        IErrorQueueNameFormatter,
        IDeadLetterQueueNameFormatter
    {
        readonly string _suffix;

        public SuffixFormatter(string suffix)
        {
            _suffix = suffix;
        }

        public string FormatDeadLetterQueueName(string queueName) => queueName + _suffix;

        public string FormatErrorQueueName(string queueName) => queueName + _suffix;
    }


    public class FlakyConsumer :
        IConsumer<AuctionEnded>
    {
        readonly State _state;

        public FlakyConsumer(State state)
        {
            _state = state;
        }

        public Task Consume(ConsumeContext<AuctionEnded> context)
        {
            if (!_state.Fixed)
            {
                _state.Attempted();
                throw new InvalidOperationException("The vase is broken");
            }

            _state.Succeed();
            return Task.CompletedTask;
        }


        public sealed class State
        {
            int _attempts;
            int _succeeded;
            volatile bool _fixed;

            public bool Fixed
            {
                get => _fixed;
                set => _fixed = value;
            }

            public int Attempts => Volatile.Read(ref _attempts);
            public int Succeeded => Volatile.Read(ref _succeeded);

            public void Attempted() => Interlocked.Increment(ref _attempts);
            public void Succeed() => Interlocked.Increment(ref _succeeded);
        }
    }
}
