namespace MassTransit.RedisStreams.Tests.History;

using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Contract;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Redis;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;


/// <summary>
/// Replay, as the Python broker's <c>replay_events</c> did it, in MassTransit's idiom: past events reach one endpoint's
/// consumers through its normal pipeline, marked as replays, without reaching other endpoints or growing the event stream.
/// </summary>
[Collection(MemoryMeasurements.Name)]
public class ReplayTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    readonly ITestOutputHelper _output;

    public ReplayTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public record Seen(string Endpoint, int Lot, bool IsReplay, string? ReplayedEntryId);

    [Fact]
    public async Task Past_events_reach_only_the_endpoint_they_are_replayed_to_marked_as_replays()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await StartTwoEndpoints(redis);
        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        var seen = provider.GetRequiredService<Recorder<Seen>>();
        var history = provider.GetRequiredService<IRedisStreamsEventHistory>();

        for (var i = 1; i <= 5; i++)
            await bus.Publish(new LotSold(i, "b", i));
        await seen.WaitForCount(10);

        var stored = await history.GetEvents<LotSold>(count: 5);
        Assert.Equal(5, await history.Replay<LotSold>("reports"));

        var all = await seen.WaitForCount(15);
        var replays = all.Where(x => x.IsReplay).ToList();
        Assert.Equal(5, replays.Count);
        Assert.All(replays, x => Assert.Equal("reports", x.Endpoint));
        Assert.Equal([1, 2, 3, 4, 5], replays.Select(x => x.Lot));
        Assert.Equal(stored.Select(x => x.EntryId).Reverse(), replays.Select(x => x.ReplayedEntryId));

        // Nothing more for the other endpoint, and nothing appended to the event stream.
        await Task.Delay(200);
        Assert.Equal(5, seen.Items.Count(x => x.Endpoint == "mailer"));
        Assert.Equal(5, await (await redis.Database()).StreamLengthAsync(redis.Key("events:LotSold")));

        var copies = await history.GetEvents<LotSold>(count: 100);
        Assert.DoesNotContain(copies, x => x.IsReplay);
    }

    [Fact]
    public async Task A_replay_from_an_entry_id_with_a_count_replays_that_many_from_there()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await StartTwoEndpoints(redis);
        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        var seen = provider.GetRequiredService<Recorder<Seen>>();
        var history = provider.GetRequiredService<IRedisStreamsEventHistory>();

        for (var i = 1; i <= 10; i++)
            await bus.Publish(new LotSold(i, "b", i));
        await seen.WaitForCount(20);

        var third = (await history.GetEvents<LotSold>(count: 10))[^3];

        // As replay_events("AuctionEnded", from_id='...', count=5) did.
        Assert.Equal(5, await history.Replay<LotSold>("mailer", from: third.EntryId, count: 5));

        var replays = (await seen.WaitFor(x => x.Count(y => y.IsReplay) == 5, "5 replays")).Where(x => x.IsReplay);
        Assert.Equal([3, 4, 5, 6, 7], replays.Select(x => x.Lot));
    }

    [Fact]
    public async Task A_replay_to_every_consumer_of_a_type_is_one_call()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await StartTwoEndpoints(redis);
        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        var seen = provider.GetRequiredService<Recorder<Seen>>();

        for (var i = 1; i <= 3; i++)
            await bus.Publish(new LotSold(i, "b", i));
        await seen.WaitForCount(6);

        var replayed = await provider.GetRequiredService<IRedisStreamsEventHistory>().ReplayToConsumers<LotSold>();

        Assert.Equal(new[] { ("mailer", 3L), ("reports", 3L) }, replayed.Select(x => (x.Key, x.Value)).OrderBy(x => x.Key));
        var replays = (await seen.WaitFor(x => x.Count(y => y.IsReplay) == 6, "6 replays")).Where(x => x.IsReplay).ToList();
        Assert.Equal(3, replays.Count(x => x.Endpoint == "mailer"));
        Assert.Equal(3, replays.Count(x => x.Endpoint == "reports"));
    }

    [Fact]
    public async Task A_replayed_event_whose_consumer_fails_is_retried_and_goes_to_the_error_stream_with_a_fault()
    {
        var redis = await RedisTestContext.Create();
        var attempts = 0;
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) =>
        {
            cfg.ReceiveEndpoint("fragile", e =>
            {
                e.UseMessageRetry(r => r.Immediate(2));
                e.Handler<LotSold>(ctx =>
                {
                    if (ctx.TryGetPayload<RedisStreamsMessageContext>(out var redisContext) && redisContext.IsReplay)
                    {
                        Interlocked.Increment(ref attempts);
                        throw new InvalidOperationException("Replays are not welcome here");
                    }

                    return Task.CompletedTask;
                });
            });
        });

        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Bus.Publish(new LotSold(1, "b", 1m));
        Assert.True(await harness.Consumed.Any<LotSold>());

        Assert.Equal(1, await provider.GetRequiredService<IRedisStreamsEventHistory>().Replay<LotSold>("fragile"));

        var db = await redis.Database();
        Assert.True(await Eventually.True(async () => await db.StreamLengthAsync(redis.Key("queue:fragile_error")) == 1, Timeout));
        Assert.Equal(3, Volatile.Read(ref attempts));
        Assert.True(await harness.Published.Any<Fault<LotSold>>());

        var error = (await db.StreamRangeAsync(redis.Key("queue:fragile_error"), "-", "+")).Single();
        Assert.False(error["MT-Redis-Replay"].IsNull, "the error entry still says it is a replay");
    }

    [Fact]
    public async Task A_replay_to_an_unknown_endpoint_or_one_that_does_not_consume_the_type_says_why()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await StartTwoEndpoints(redis);
        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        await bus.Publish(new LotSold(1, "b", 1m));
        var history = provider.GetRequiredService<IRedisStreamsEventHistory>();

        var unknown = await Assert.ThrowsAsync<ArgumentException>(() => history.Replay<LotSold>("no-such-endpoint"));
        Assert.Contains("no-such-endpoint", unknown.Message);
        Assert.Contains("does not exist", unknown.Message);

        var notConsuming = await Assert.ThrowsAsync<ArgumentException>(() => history.Replay<LotWithdrawn>("reports"));
        Assert.Contains("does not consume", notConsuming.Message);
        Assert.Contains("LotWithdrawn", notConsuming.Message);
    }

    [Fact]
    public async Task A_replay_of_a_hundred_thousand_events_runs_in_bounded_memory_and_can_be_cancelled()
    {
        const int count = 100_000;
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var events = redis.Key("events:LotSold");
        var queue = redis.Key("queue:archive");

        // An endpoint that has run once: its queue stream and its group on the event stream.
        await db.StreamCreateConsumerGroupAsync(queue, "archive", "0", true);
        await db.StreamCreateConsumerGroupAsync(events, "archive", "$", true);

        var body = "{\"lot\":1,\"buyer\":\"" + new string('b', 200) + "\",\"price\":1.0}";
        for (var page = 0; page < count / 1000; page++)
        {
            var batch = db.CreateBatch();
            var adds = Enumerable.Range(0, 1000).Select(_ => batch.StreamAddAsync(events,
                [new NameValueEntry("body", body), new NameValueEntry("Content-Type", "application/json")])).ToArray();
            batch.Execute();
            await Task.WhenAll(adds);
        }

        using var multiplexer = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var history = new RedisStreamsEventHistory(multiplexer, redis.KeyPrefix);

        // What the replay keeps alive, measured after full collections every 10,000 events, while no other test runs.
        var before = GC.GetTotalMemory(true);
        long peak = 0;
        var progress = new SynchronousProgress(replayed =>
        {
            if (replayed % 10_000 == 0)
                peak = Math.Max(peak, GC.GetTotalMemory(true) - before);
        });

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(count, await history.Replay<LotSold>("archive", progress: progress));
        _output.WriteLine($"replayed {count} events in {stopwatch.Elapsed.TotalSeconds:F1} s; it kept at most {peak / 1024.0:F0} KB alive");
        Assert.Equal(count, await db.StreamLengthAsync(queue));

        // 100,000 entries of about 300 bytes are 30 MB; a replay holds one page of them at a time.
        Assert.True(peak < 8 * 1024 * 1024, $"the replay kept {peak / 1024 / 1024} MB alive");

        using var cancellation = new CancellationTokenSource();
        var cancelled = new SynchronousProgress(replayed =>
        {
            if (replayed >= 1000)
                cancellation.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => history.Replay<LotSold>("archive", progress: cancelled,
            cancellationToken: cancellation.Token));

        var afterCancel = await db.StreamLengthAsync(queue) - count;
        Assert.InRange(afterCancel, 1000, 1000);
    }

    static Task<ServiceProvider> StartTwoEndpoints(RedisTestContext redis)
    {
        return redis.StartHarness(_ => { }, (context, cfg) =>
        {
            var seen = context.GetRequiredService<Recorder<Seen>>();
            foreach (var name in new[] { "reports", "mailer" })
            {
                cfg.ReceiveEndpoint(name, e =>
                {
                    e.ConcurrentMessageLimit = 1;
                    e.Handler<LotSold>(ctx =>
                    {
                        ctx.TryGetPayload<RedisStreamsMessageContext>(out var redisContext);
                        seen.Add(new Seen(name, ctx.Message.Lot, redisContext?.IsReplay ?? false, redisContext?.ReplayedEntryId));
                        return Task.CompletedTask;
                    });
                });
            }
        }, services: s => s.AddSingleton<Recorder<Seen>>());
    }


    /// <summary>Reports on the caller's thread, unlike <see cref="Progress{T}" />, so a test sees each report before the next page.</summary>
    sealed class SynchronousProgress : IProgress<long>
    {
        readonly Action<long> _report;

        public SynchronousProgress(Action<long> report)
        {
            _report = report;
        }

        public void Report(long value) => _report(value);
    }
}
