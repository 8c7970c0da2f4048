namespace MassTransit.RedisStreams.Tests.History;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// History by message type, as the Python broker's <c>get_event_history</c> and <c>get_stream_info</c> gave it, typed:
/// newest first and oldest first, by count, ID range and time range, across the streams of derived types, with entries that
/// no longer read as the type reported one by one.
/// </summary>
public class EventHistoryTests
{
    [Fact]
    public async Task The_newest_events_come_newest_first_and_typed()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await redis.StartHarness(_ => { });
        var bus = provider.GetRequiredService<ITestHarness>().Bus;

        for (var i = 1; i <= 25; i++)
            await bus.Publish(new LotSold(i, "buyer-" + i, i * 10m), x => x.Headers.Set("Auction", "spring"));

        var history = provider.GetRequiredService<IRedisStreamsEventHistory>();
        var last = await history.GetEvents<LotSold>(count: 10);

        Assert.Equal(Enumerable.Range(16, 10).Reverse(), last.Select(x => x.Message!.Lot));
        Assert.All(last, x =>
        {
            Assert.Null(x.Error);
            Assert.Equal(redis.KeyPrefix + ":events:LotSold", x.StreamKey);
            Assert.NotNull(x.MessageId);
            Assert.NotNull(x.SentTime);
            Assert.Equal("spring", x.Headers.Get<string>("Auction"));
            Assert.InRange(x.Timestamp, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        });
        Assert.True(last.Zip(last.Skip(1)).All(x => CompareEntryIds(x.First.EntryId, x.Second.EntryId) > 0), "newest first");
    }

    [Fact]
    public async Task A_window_by_id_and_by_time_reads_oldest_first_and_stops_at_the_count()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await redis.StartHarness(_ => { });
        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        var history = provider.GetRequiredService<IRedisStreamsEventHistory>();

        for (var i = 1; i <= 10; i++)
            await bus.Publish(new LotSold(i, "b", 1m));

        var all = await Collect(history.ReadEvents<LotSold>());
        Assert.Equal(Enumerable.Range(1, 10), all.Select(x => x.Message!.Lot));

        // From the fourth entry's ID to the seventh's, both included.
        var window = await Collect(history.ReadEvents<LotSold>(from: all[3].EntryId, to: all[6].EntryId));
        Assert.Equal([4, 5, 6, 7], window.Select(x => x.Message!.Lot));

        // As the Python broker's replay_events(from_id=..., count=5).
        var five = await Collect(history.ReadEvents<LotSold>(from: all[2].EntryId, count: 5));
        Assert.Equal([3, 4, 5, 6, 7], five.Select(x => x.Message!.Lot));

        // By time: nothing before the first, everything from it on.
        Assert.Empty(await Collect(history.ReadEvents<LotSold>(to: all[0].Timestamp.AddMilliseconds(-1))));
        Assert.Equal(10, (await Collect(history.ReadEvents<LotSold>(from: all[0].Timestamp))).Count);
        Assert.Empty(await Collect(history.ReadEvents<LotSold>(from: DateTimeOffset.UtcNow.AddMinutes(1))));

        // Newest first within a window.
        var newest = await history.GetEvents<LotSold>(count: 2, to: all[4].EntryId);
        Assert.Equal([5, 4], newest.Select(x => x.Message!.Lot));
    }

    [Fact]
    public async Task Events_of_derived_types_are_part_of_the_history_of_their_base_type_in_the_order_they_were_published()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await redis.StartHarness(_ => { });
        var bus = provider.GetRequiredService<ITestHarness>().Bus;

        for (var i = 1; i <= 300; i++)
        {
            if (i % 3 == 0)
                await bus.Publish(new LotWithdrawn(i, "damaged"));
            else
                await bus.Publish(new LotSold(i, "b", 1m));
        }

        var history = provider.GetRequiredService<IRedisStreamsEventHistory>();

        var lots = await Collect(history.ReadEvents<ILotEvent>());
        Assert.Equal(Enumerable.Range(1, 300), lots.Select(x => x.Message!.Lot));
        Assert.Contains("LotWithdrawn", lots[2].Headers.Get<string>(MessageHeaders.MessageType));

        var newest = await history.GetEvents<ILotEvent>(count: 4);
        Assert.Equal([300, 299, 298, 297], newest.Select(x => x.Message!.Lot));
    }

    [Fact]
    public async Task An_entry_that_does_not_read_as_the_type_is_reported_on_its_own_and_the_read_goes_on()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await redis.StartHarness(_ => { });
        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        var db = await redis.Database();

        await bus.Publish(new LotSold(1, "a", 1m));
        await db.StreamAddAsync(redis.Key("events:LotSold"), "body", "this is not JSON");
        await db.StreamAddAsync(redis.Key("events:LotSold"), [new NameValueEntry("body", "{\"lot\":\"not a number\"}"),
            new NameValueEntry("Content-Type", "application/json")]);
        await db.StreamAddAsync(redis.Key("events:LotSold"), "other", "no body at all");
        await bus.Publish(new LotSold(2, "b", 2m));

        var events = await Collect(provider.GetRequiredService<IRedisStreamsEventHistory>().ReadEvents<LotSold>());

        Assert.Equal(5, events.Count);
        Assert.Equal(1, events[0].Message!.Lot);
        Assert.All(events.Skip(1).Take(3), x =>
        {
            Assert.Null(x.Message);
            Assert.NotNull(x.Error);
        });
        Assert.Contains("LotSold", events[2].Error!.Message);
        Assert.Equal(2, events[4].Message!.Lot);
    }

    [Fact]
    public async Task Plain_JSON_written_by_another_program_reads_as_the_type()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        using var multiplexer = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);

        // As the Python broker wrote its events: a data field of JSON, no headers.
        await db.StreamAddAsync(redis.Key("events:LotSold"), "data", "{\"lot\":7,\"buyer\":\"erin\",\"price\":300.0}");

        var history = new RedisStreamsEventHistory(multiplexer, redis.KeyPrefix);
        var stored = Assert.Single(await history.GetEvents<LotSold>());

        Assert.Equal(new LotSold(7, "erin", 300m), stored.Message);
    }

    [Fact]
    public async Task Many_events_over_two_streams_are_read_page_by_page_in_order()
    {
        const int count = 1000;
        var redis = await RedisTestContext.Create();
        await using var provider = await redis.StartHarness(_ => { });
        var bus = provider.GetRequiredService<ITestHarness>().Bus;

        for (var i = 0; i < count; i++)
        {
            if (i % 4 == 0)
                await bus.Publish(new LotWithdrawn(i, "r"));
            else
                await bus.Publish(new LotSold(i, "b", 1m));
        }

        var history = provider.GetRequiredService<IRedisStreamsEventHistory>();
        var lots = new List<int>();
        await foreach (var stored in history.ReadEvents<ILotEvent>())
            lots.Add(stored.Message!.Lot);

        Assert.Equal(Enumerable.Range(0, count), lots);

        var newestFirst = await history.GetEvents<ILotEvent>(count: 250);
        Assert.Equal(Enumerable.Range(count - 250, 250).Reverse(), newestFirst.Select(x => x.Message!.Lot));
    }

    [Fact]
    public async Task Stream_info_tells_the_length_the_ends_the_memory_and_each_group_with_its_pending_lag_and_consumers()
    {
        var redis = await RedisTestContext.Create();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) =>
        {
            cfg.ReceiveEndpoint("ledger", e =>
            {
                e.PrefetchCount = 2;
                e.ConcurrentMessageLimit = 1;
                e.Handler<LotSold>(_ => release.Task);
            });
        });

        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        var history = provider.GetRequiredService<IRedisStreamsEventHistory>();
        try
        {
            for (var i = 1; i <= 5; i++)
                await bus.Publish(new LotSold(i, "b", 1m));

            RedisStreamsStreamInfo? info = null;
            Assert.True(await Eventually.True(async () =>
            {
                info = await history.GetStreamInfo<LotSold>();
                return info.Groups.Count == 1 && info.Groups[0].Pending == 2;
            }, TimeSpan.FromSeconds(10)), "the endpoint holds two entries: " + string.Join(", ", info?.Groups.Select(x => $"{x.Name} {x.Pending}") ?? []));

            Assert.True(info!.Exists);
            Assert.Equal(RedisStreamsStreamKind.Events, info.Kind);
            Assert.Equal("LotSold", info.Name);
            Assert.Equal(5, info.Length);
            Assert.NotNull(info.FirstEntryId);
            Assert.True(CompareEntryIds(info.FirstEntryId!, info.LastEntryId!) < 0);
            Assert.InRange(info.LastEntryTime!.Value, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
            Assert.True(info.MemoryBytes > 0);

            var group = Assert.Single(info.Groups);
            Assert.Equal("ledger", group.Name);
            Assert.Equal(3, group.Lag);
            var consumer = Assert.Single(group.Consumers);
            Assert.Equal(2, consumer.Pending);
            Assert.True(consumer.Idle < TimeSpan.FromMinutes(1));

            var missing = await new RedisStreamsEventHistory((await redis.Database()).Multiplexer, redis.KeyPrefix).GetStreamInfo<LotWithdrawn>();
            Assert.False(missing.Exists);
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task The_overview_lists_event_streams_queues_and_their_error_and_skipped_streams()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) =>
        {
            cfg.ReceiveEndpoint("ledger", e =>
            {
                e.UseMessageRetry(r => r.None());
                e.Handler<LotSold>(ctx => ctx.Message.Lot == 2 ? throw new InvalidOperationException("boom") : Task.CompletedTask);
            });
        });

        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        await bus.Publish(new LotSold(1, "b", 1m));
        await bus.Publish(new LotSold(2, "b", 1m));
        await (await bus.GetSendEndpoint(new Uri("queue:ledger"))).Send(new LotWithdrawn(3, "nobody wants this"));

        var db = await redis.Database();
        Assert.True(await Eventually.True(async () => await db.StreamLengthAsync(redis.Key("queue:ledger_error")) == 1
            && await db.StreamLengthAsync(redis.Key("queue:ledger_skipped")) == 1, TimeSpan.FromSeconds(10)));

        var overview = await provider.GetRequiredService<IRedisStreamsEventHistory>().GetOverview();
        var byName = overview.ToDictionary(x => x.Name);

        Assert.Equal(RedisStreamsStreamKind.Events, byName["LotSold"].Kind);
        Assert.Equal(2, byName["LotSold"].Length);
        Assert.Equal(RedisStreamsStreamKind.Queue, byName["ledger"].Kind);
        Assert.Equal(RedisStreamsStreamKind.Error, byName["ledger_error"].Kind);
        Assert.Equal(RedisStreamsStreamKind.Skipped, byName["ledger_skipped"].Kind);
        Assert.Contains(overview, x => x.Kind == RedisStreamsStreamKind.Faults);
        Assert.Equal(overview.OrderBy(x => x.Kind).ThenBy(x => x.Name, StringComparer.Ordinal).Select(x => x.Name), overview.Select(x => x.Name));
    }

    static async Task<List<RedisStreamsStoredEvent<T>>> Collect<T>(IAsyncEnumerable<RedisStreamsStoredEvent<T>> events)
        where T : class
    {
        var list = new List<RedisStreamsStoredEvent<T>>();
        await foreach (var stored in events)
            list.Add(stored);

        return list;
    }

    /// <summary>Compares entry IDs as Redis orders them: by time, then by sequence (as text, "1-10" sorts before "1-9").</summary>
    static int CompareEntryIds(string x, string y)
    {
        static (long Ms, long Seq) Parse(string id)
        {
            var dash = id.IndexOf('-');
            return (long.Parse(id[..dash]), long.Parse(id[(dash + 1)..]));
        }

        return Parse(x).CompareTo(Parse(y));
    }
}
