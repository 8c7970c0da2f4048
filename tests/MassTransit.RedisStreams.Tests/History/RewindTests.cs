namespace MassTransit.RedisStreams.Tests.History;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Contract;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Redis;
using Xunit;


/// <summary>
/// Moving an endpoint in the log: back, to rebuild state from a point; forward, to skip a backlog; safe while it consumes.
/// And new endpoints that start at a point in time.
/// </summary>
public class RewindTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task An_endpoint_rewound_to_an_entry_id_processes_the_events_from_there_again()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await StartProjection(redis);
        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        var lots = provider.GetRequiredService<Recorder<int>>();
        var history = provider.GetRequiredService<IRedisStreamsEventHistory>();

        for (var i = 1; i <= 10; i++)
            await bus.Publish(new LotSold(i, "b", i));
        await lots.WaitForCount(10);

        var sixth = (await history.GetEvents<LotSold>(count: 10))[^6];
        var moved = await history.Rewind("projection", to: sixth.EntryId);

        Assert.Equal([redis.KeyPrefix + ":events:LotSold"], moved.Keys);
        var all = await lots.WaitForCount(15);
        Assert.Equal(Enumerable.Range(6, 5), all.Skip(10));
    }

    [Fact]
    public async Task An_endpoint_rewound_to_a_time_before_everything_rebuilds_from_the_beginning()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await StartProjection(redis);
        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        var lots = provider.GetRequiredService<Recorder<int>>();

        for (var i = 1; i <= 10; i++)
            await bus.Publish(new LotSold(i, "b", i));
        await lots.WaitForCount(10);

        await provider.GetRequiredService<IRedisStreamsEventHistory>().Rewind("projection", to: DateTimeOffset.UtcNow.AddDays(-1));

        var all = await lots.WaitForCount(20);
        Assert.Equal(Enumerable.Range(1, 10), all.Skip(10));
    }

    [Fact]
    public async Task An_endpoint_moved_forward_skips_the_backlog()
    {
        var redis = await RedisTestContext.Create();
        var lots = new Recorder<int>();
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("projection", e => e.Handler<LotSold>(ctx =>
            {
                lots.Add(ctx.Message.Lot);
                return Task.CompletedTask;
            }));
        });

        // The endpoint ran once, then a backlog built up while it was down.
        await bus.StartAsync();
        await bus.StopAsync();
        for (var i = 1; i <= 10; i++)
            await bus.Publish(new LotSold(i, "b", i));

        using var multiplexer = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        await new RedisStreamsEventHistory(multiplexer, redis.KeyPrefix).Rewind("projection", to: RedisStreamsPosition.End);

        await bus.StartAsync();
        try
        {
            await bus.Publish(new LotSold(11, "b", 11));
            Assert.Equal([11], await lots.WaitForCount(1));
            await Task.Delay(200);
            Assert.Single(lots.Items);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [Fact]
    public async Task A_rewind_while_the_endpoint_consumes_loses_nothing_and_skips_nothing()
    {
        const int count = 300;
        var redis = await RedisTestContext.Create();
        var handled = new ConcurrentDictionary<int, ConcurrentBag<(DateTime Started, DateTime Finished)>>();

        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) =>
        {
            cfg.ReceiveEndpoint("projection", e =>
            {
                e.PrefetchCount = 8;
                e.Handler<LotSold>(async ctx =>
                {
                    var started = DateTime.UtcNow;
                    await Task.Delay(1);
                    handled.GetOrAdd(ctx.Message.Lot, _ => []).Add((started, DateTime.UtcNow));
                });
            });
        });

        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        var history = provider.GetRequiredService<IRedisStreamsEventHistory>();

        var publishing = Task.Run(async () =>
        {
            for (var i = 0; i < count; i++)
                await bus.Publish(new LotSold(i, "b", i));
        });

        Assert.True(await Eventually.True(() => handled.Count >= count / 3, Timeout), "a third is handled before the rewind");

        var target = (await history.ReadEvents<LotSold>(count: 21).ToListAsync()).Last();
        var rewound = DateTime.UtcNow;
        await history.Rewind("projection", to: target.EntryId);

        await publishing;
        Assert.True(await Eventually.True(() => handled.Count == count, Timeout), "nothing is lost");

        // Every event from the rewind's target on is finished again after the rewind began: reprocessed, or finishing then.
        Assert.True(await Eventually.True(() => Enumerable.Range(target.Message!.Lot, count - target.Message.Lot)
            .All(lot => handled[lot].Any(x => x.Finished >= rewound)), Timeout), "nothing is skipped");
    }

    [Fact]
    public async Task A_new_endpoint_with_a_start_time_receives_the_events_from_that_time_on()
    {
        var redis = await RedisTestContext.Create();
        var lots = new Recorder<int>();

        var publisher = Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix));
        await publisher.StartAsync();
        try
        {
            for (var i = 1; i <= 5; i++)
                await publisher.Publish(new LotSold(i, "b", i));

            await Task.Delay(20);
            var start = DateTimeOffset.UtcNow;
            await Task.Delay(20);

            for (var i = 6; i <= 10; i++)
                await publisher.Publish(new LotSold(i, "b", i));

            var projection = Bus.Factory.CreateUsingRedisStreams(cfg =>
            {
                cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
                cfg.ReceiveEndpoint("late-projection", e =>
                {
                    e.StartPosition = RedisStreamsStartPosition.At(start);
                    e.ConcurrentMessageLimit = 1;
                    e.Handler<LotSold>(ctx =>
                    {
                        lots.Add(ctx.Message.Lot);
                        return Task.CompletedTask;
                    });
                });
            });

            await projection.StartAsync();
            try
            {
                await publisher.Publish(new LotSold(11, "b", 11));
                Assert.Equal(Enumerable.Range(6, 6), await lots.WaitForCount(6));
            }
            finally
            {
                await projection.StopAsync();
            }
        }
        finally
        {
            await publisher.StopAsync();
        }
    }

    [Fact]
    public async Task Rewinding_an_endpoint_that_reads_no_event_stream_says_so()
    {
        var redis = await RedisTestContext.Create();
        using var multiplexer = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);

        var exception = await Assert.ThrowsAsync<ArgumentException>(() =>
            new RedisStreamsEventHistory(multiplexer, redis.KeyPrefix).Rewind("nobody", to: RedisStreamsPosition.Beginning));

        Assert.Contains("'nobody' reads no event stream", exception.Message);
    }

    static Task<ServiceProvider> StartProjection(RedisTestContext redis)
    {
        return redis.StartHarness(_ => { }, (context, cfg) =>
        {
            var lots = context.GetRequiredService<Recorder<int>>();
            cfg.ReceiveEndpoint("projection", e =>
            {
                e.ConcurrentMessageLimit = 1;
                e.Handler<LotSold>(ctx =>
                {
                    lots.Add(ctx.Message.Lot);
                    return Task.CompletedTask;
                });
            });
        }, services: s => s.AddSingleton<Recorder<int>>());
    }
}


static class AsyncEnumerableExtensions
{
    public static async Task<List<T>> ToListAsync<T>(this IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var item in source)
            list.Add(item);

        return list;
    }
}
