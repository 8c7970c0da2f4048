namespace MassTransit.RedisStreams.Tests.Retention;

using System;
using System.Linq;
using System.Threading.Tasks;
using Contract;
using History;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// What the bus keeps: the log keeps everything unless told otherwise, queues drop what was handled, per-type limits apply,
/// lagging endpoints keep what they need, one instance at a time trims in the background, and the leftovers of temporary
/// endpoints that died are removed.
/// </summary>
public class RetentionTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task By_default_a_queue_drops_what_was_handled_and_the_log_keeps_everything()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await StartLedger(redis);
        var harness = provider.GetRequiredService<ITestHarness>();
        var db = await redis.Database();

        var queue = await harness.Bus.GetSendEndpoint(new Uri("queue:ledger"));
        for (var i = 0; i < 20; i++)
            await queue.Send(new LotWithdrawn(i, "r"));
        for (var i = 0; i < 5; i++)
            await harness.Bus.Publish(new LotSold(i, "b", 1m));

        Assert.True(await Eventually.True(() => provider.GetRequiredService<Recorder<int>>().Items.Count == 25, Timeout));
        Assert.True(await Eventually.True(async () =>
            (await db.StreamPendingAsync(redis.Key("queue:ledger"), "ledger")).PendingMessageCount == 0, Timeout));

        var report = await provider.GetRequiredService<IRedisStreamsAdmin>().Trim();

        Assert.Equal(0, await db.StreamLengthAsync(redis.Key("queue:ledger")));
        Assert.Equal(20, report.Removed[redis.Key("queue:ledger").ToString()]);
        Assert.Equal(5, await db.StreamLengthAsync(redis.Key("events:LotSold")));
        Assert.True(report.StreamsExamined >= 2);
    }

    [Fact]
    public async Task A_policy_for_one_message_type_trims_its_stream_and_no_other()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await StartLedger(redis, r => r.MessageType<LotSold>(RedisStreamsRetentionPolicy.Entries(3)));
        var harness = provider.GetRequiredService<ITestHarness>();
        var db = await redis.Database();

        for (var i = 0; i < 10; i++)
        {
            await harness.Bus.Publish(new LotSold(i, "b", 1m));
            await harness.Bus.Publish(new LotWithdrawn(i, "r"));
        }

        Assert.True(await Eventually.True(() => provider.GetRequiredService<Recorder<int>>().Items.Count == 20, Timeout));
        Assert.True(await Eventually.True(async () =>
            (await db.StreamPendingAsync(redis.Key("events:LotSold"), "ledger")).PendingMessageCount == 0, Timeout));

        await provider.GetRequiredService<IRedisStreamsAdmin>().Trim();

        Assert.Equal(3, await db.StreamLengthAsync(redis.Key("events:LotSold")));
        Assert.Equal(10, await db.StreamLengthAsync(redis.Key("events:LotWithdrawn")));

        var history = provider.GetRequiredService<IRedisStreamsEventHistory>();
        Assert.Equal([9, 8, 7], (await history.GetEvents<LotSold>()).Select(x => x.Message!.Lot));
    }

    [Fact]
    public async Task An_endpoint_that_lags_keeps_what_it_has_not_read_and_the_report_names_it()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();

        // The endpoint ran once, then stopped: its group stays where it was while events are published.
        var ledger = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("ledger", e => e.Handler<LotSold>(_ => Task.CompletedTask));
        });
        await ledger.StartAsync();
        await ledger.StopAsync();

        for (var i = 0; i < 10; i++)
            await ledger.Publish(new LotSold(i, "b", 1m));

        var admin = new RedisStreamsAdmin(db.Multiplexer, redis.KeyPrefix, retention: r => r.Events = RedisStreamsRetentionPolicy.Entries(2));
        var report = await admin.Trim();

        var stream = redis.Key("events:LotSold").ToString();
        Assert.Equal(10, await db.StreamLengthAsync(stream));
        Assert.Equal("ledger", report.KeptForGroup[stream]);
        Assert.False(report.Removed.ContainsKey(stream));

        // Once it has caught up, the policy applies.
        await ledger.StartAsync();
        try
        {
            Assert.True(await Eventually.True(async () => (await db.StreamGroupInfoAsync(stream)).Single().Lag == 0
                && (await db.StreamGroupInfoAsync(stream)).Single().PendingMessageCount == 0, Timeout));

            await admin.Trim();
            Assert.Equal(2, await db.StreamLengthAsync(stream));
        }
        finally
        {
            await ledger.StopAsync();
        }
    }

    [Fact]
    public async Task One_instance_at_a_time_trims_in_the_background()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();

        IBusControl CreateInstance(string name) => Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h =>
            {
                h.KeyPrefix = redis.KeyPrefix;
                h.ConsumerName = name;
            });
            cfg.Retention(r => r.Interval = TimeSpan.FromSeconds(1));
            cfg.ReceiveEndpoint("ledger", e => e.Handler<LotWithdrawn>(_ => Task.CompletedTask));
        });

        var first = CreateInstance("first");
        var second = CreateInstance("second");
        await first.StartAsync();
        await second.StartAsync();
        try
        {
            var queue = await first.GetSendEndpoint(new Uri("queue:ledger"));
            for (var i = 0; i < 30; i++)
                await queue.Send(new LotWithdrawn(i, "r"));

            Assert.True(await Eventually.True(async () => await db.StreamLengthAsync(redis.Key("queue:ledger")) == 0, Timeout),
                "the handled messages are trimmed without anyone asking");

            var lease = await db.StringGetAsync(redis.Key("retention-lease"));
            Assert.False(lease.IsNullOrEmpty, "one instance holds the retention lease");
        }
        finally
        {
            await second.StopAsync();
            await first.StopAsync();
        }

        Assert.False(await db.KeyExistsAsync(redis.Key("retention-lease")), "a stopping instance gives the lease up");
    }

    [Fact]
    public async Task The_groups_and_registrations_of_a_temporary_endpoint_that_died_are_removed_and_those_of_live_endpoints_stay()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        await using var provider = await StartLedger(redis);
        await provider.GetRequiredService<ITestHarness>().Bus.Publish(new LotSold(1, "b", 1m));

        // What a crashed process's temporary endpoint leaves: a group on the event stream and a subscriber registration; its
        // queue stream expired.
        var stream = redis.Key("events:LotSold").ToString();
        var subscribers = redis.Beside("events:LotSold", "subscribers");
        await db.StreamCreateConsumerGroupAsync(stream, "gone_bus_1", "$");
        await db.HashSetAsync(subscribers, "gone_bus_1", "$");

        var report = await provider.GetRequiredService<IRedisStreamsAdmin>().Trim();

        Assert.Equal([stream + "/gone_bus_1"], report.RemovedGroups);
        Assert.Equal(["ledger"], (await db.StreamGroupInfoAsync(stream)).Select(x => x.Name));
        Assert.False(await db.HashExistsAsync(subscribers, "gone_bus_1"));
        Assert.True(await db.HashExistsAsync(subscribers, "ledger"));
    }

    static Task<ServiceProvider> StartLedger(RedisTestContext redis, Action<IRedisStreamsRetentionConfigurator>? retention = null)
    {
        return redis.StartHarness(_ => { }, (context, cfg) =>
        {
            if (retention != null)
                cfg.Retention(retention);

            var lots = context.GetRequiredService<Recorder<int>>();
            cfg.ReceiveEndpoint("ledger", e =>
            {
                e.Handler<LotSold>(ctx =>
                {
                    lots.Add(ctx.Message.Lot);
                    return Task.CompletedTask;
                });
                e.Handler<LotWithdrawn>(ctx =>
                {
                    lots.Add(ctx.Message.Lot);
                    return Task.CompletedTask;
                });
            });
        }, services: s => s.AddSingleton<Recorder<int>>());
    }
}
