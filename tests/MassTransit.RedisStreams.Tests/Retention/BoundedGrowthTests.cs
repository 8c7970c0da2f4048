namespace MassTransit.RedisStreams.Tests.Retention;

using System;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using RedisStreams.Redis;
using RedisStreams.Retention;
using RedisStreams.Transport;
using StackExchange.Redis;
using Tests.Redis;
using Xunit;


/// <summary>
/// Nothing grows without bound: retention removes the host records nothing names any more (and keeps those an entry in
/// <c>_error</c>, a delayed message or a running instance still needs), forgets delayed streams nothing waits for, and removes
/// the groups of endpoints that are gone.
/// </summary>
public class BoundedGrowthTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    static readonly TimeSpan ShortHold = TimeSpan.FromMilliseconds(400);

    [Fact]
    public async Task The_record_of_a_stopped_bus_goes_once_nothing_names_it_and_that_of_a_running_bus_stays()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var stream = redis.Key("events:GrowthTick");

        var gone = CreateBus(redis, ShortHold);
        await gone.StartAsync();
        await gone.Publish(new GrowthTick(1));
        await gone.StopAsync();

        // The running bus renews its hold in its retention agent, every second here.
        var live = CreateBus(redis, TimeSpan.FromSeconds(4), agent: true);
        await live.StartAsync();
        try
        {
            await live.Publish(new GrowthTick(2));
            var named = (await db.StreamRangeAsync(stream)).Select(x => (string)x[EntryFieldNames.Host]!).ToArray();
            Assert.Equal(2, named.Distinct().Count());
            var (goneId, liveId) = (named[0], named[1]);

            var admin = Admin(db, redis, r => r.Events = RedisStreamsRetentionPolicy.Entries(0));
            var removed = 0;
            Assert.True(await Eventually.True(async () =>
            {
                removed += (await admin.Trim()).RemovedHostRecords;
                return !await db.HashExistsAsync(redis.Key("hosts"), goneId);
            }, Timeout), "the stopped bus's record is removed once its entry is trimmed and its hold has ended");

            Assert.Equal(1, removed);
            Assert.Equal(0, await db.StreamLengthAsync(stream));
            Assert.True(await db.HashExistsAsync(redis.Key("hosts"), liveId), "the running bus keeps its record: it renews its hold");

            // Its record held again, a running bus that wrote nothing for a while still names it when it writes.
            await live.Publish(new GrowthTick(3));
            Assert.Equal(liveId, (string?)(await db.StreamRangeAsync(stream)).Single()[EntryFieldNames.Host]);
        }
        finally
        {
            await live.StopAsync();
        }
    }

    [Fact]
    public async Task A_record_still_named_by_an_entry_in_error_is_kept_and_goes_once_that_entry_is_deleted()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var held = redis.Beside("hosts", "held");

        // The writer sends and stops; its hold ends.
        var writer = CreateBus(redis, ShortHold);
        await writer.StartAsync();
        await (await writer.GetSendEndpoint(new Uri("queue:failing"))).Send(new GrowthTick(1));
        await writer.StopAsync();
        var writerId = (string)(await db.StreamRangeAsync(redis.Key("queue:failing"))).Single()[EntryFieldNames.Host]!;
        Assert.True(await Eventually.True(async () => await ServerMs(db) > (long)(await db.SortedSetScoreAsync(held, writerId))!, Timeout));

        // Only then is its entry read, fails, and is copied to _error under a new ID: a time after the writer's hold ended.
        var failing = CreateBus(redis, ShortHold, cfg => cfg.ReceiveEndpoint("failing", e => e.Handler<GrowthTick>(_ => throw new InvalidOperationException("fails"))));
        await failing.StartAsync();
        try
        {
            Assert.True(await Eventually.True(async () => await db.StreamLengthAsync(redis.Key("queue:failing_error")) == 1
                && (await db.StreamPendingAsync(redis.Key("queue:failing"), "failing")).PendingMessageCount == 0, Timeout));
        }
        finally
        {
            await failing.StopAsync();
        }

        var errorEntry = (await db.StreamRangeAsync(redis.Key("queue:failing_error"))).Single();
        Assert.Equal(writerId, (string?)errorEntry[EntryFieldNames.Host]);

        // Trimmed everywhere else, and long past every hold: the entry in _error keeps the record.
        var admin = Admin(db, redis);
        var until = (long)(await db.SortedSetScoreAsync(held, writerId))! + 1_000;
        Assert.True(await Eventually.True(async () =>
        {
            Assert.Equal(0, (await admin.Trim()).RemovedHostRecords);
            return await ServerMs(db) > until;
        }, Timeout));
        Assert.Equal(0, await db.StreamLengthAsync(redis.Key("queue:failing")));
        Assert.True(await db.HashExistsAsync(redis.Key("hosts"), writerId));

        // Dealt with (deleted), the entry names it no more: the record goes.
        await db.StreamDeleteAsync(redis.Key("queue:failing_error"), [errorEntry.Id]);
        Assert.True(await Eventually.True(async () =>
        {
            await admin.Trim();
            return !await db.HashExistsAsync(redis.Key("hosts"), writerId);
        }, Timeout));
    }

    [Fact]
    public async Task A_delayed_message_keeps_its_writers_record_until_it_is_appended()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var admin = Admin(db, redis);

        // Due well after the writer's hold would have ended.
        var writer = CreateBus(redis, ShortHold);
        await writer.StartAsync();
        await (await writer.GetSendEndpoint(new Uri("queue:later"))).Send(new GrowthTick(1), x => x.Delay = TimeSpan.FromSeconds(3));
        await writer.StopAsync();

        var packed = (await db.HashGetAllAsync(redis.Beside("queue:later", "delayed-entries"))).Single().Value;
        var writerId = (string)PackedEntry.Unpack(packed).Single(x => x.Name == EntryFieldNames.Host).Value!;

        // While it waits, passes keep the record, however often they run.
        var due = (long)(await db.SortedSetRangeByRankWithScoresAsync(redis.Beside("queue:later", "delayed"))).Single().Score;
        while (await ServerMs(db) < due)
            Assert.Equal(0, (await admin.Trim()).RemovedHostRecords);
        Assert.True(await db.HashExistsAsync(redis.Key("hosts"), writerId));

        // Appended by the next bus to run, it names a record that is there.
        var reader = CreateBus(redis, ShortHold);
        await reader.StartAsync();
        try
        {
            Assert.True(await Eventually.True(async () => await db.StreamLengthAsync(redis.Key("queue:later")) == 1, Timeout));
            Assert.Equal(writerId, (string?)(await db.StreamRangeAsync(redis.Key("queue:later"))).Single()[EntryFieldNames.Host]);
            Assert.True(await db.HashExistsAsync(redis.Key("hosts"), writerId));
        }
        finally
        {
            await reader.StopAsync();
        }
    }

    [Fact]
    public async Task A_stream_nothing_waits_for_leaves_delayed_streams_and_one_with_a_waiting_message_stays()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var gateway = Gateway(db, redis);
        var (done, waiting) = (redis.Key("queue:done"), redis.Key("queue:waiting"));

        await gateway.Delayed.Schedule(done, Entry(), false, DateTimeOffset.UtcNow.AddHours(1), "t-done", cancellable: false);
        await gateway.Delayed.Schedule(waiting, Entry(), false, DateTimeOffset.UtcNow.AddHours(1), "t-waiting", cancellable: false);
        Assert.True(await gateway.Delayed.Cancel(done, "t-done"));

        var report = await Admin(db, redis).Trim();

        Assert.Equal(1, report.RemovedDelayedStreams);
        Assert.Equal([waiting.ToString()], (await db.SetMembersAsync(redis.Key("delayed-streams"))).Select(x => (string)x!));
    }

    [Fact]
    public async Task A_message_held_while_its_stream_is_being_forgotten_keeps_the_stream_recorded()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        await using var other = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);

        // The holder and retention on connections of their own, so that their commands interleave as they may between processes.
        var holder = Gateway(db, redis);
        var retention = new RedisGateway(new RedisConnection(other, observe: false), new StreamKeys(redis.KeyPrefix));
        var stream = redis.Key("queue:raced");
        var (forgotten, kept) = (0, 0);

        for (var i = 0; i < 300; i++)
        {
            var token = "t" + i;
            var hold = Task.Run(() => holder.Delayed.Schedule(stream, Entry(), false, DateTimeOffset.UtcNow.AddHours(1), token, cancellable: false));
            var forget = Task.Run(() => retention.Delayed.ForgetStreamIfEmpty(stream));
            await Task.WhenAll(hold, forget);

            if (await forget)
                forgotten++;
            else
                kept++;

            Assert.True(await db.SetContainsAsync(redis.Key("delayed-streams"), stream.ToString()), $"round {i}: a message waits, so its stream is recorded");

            // Empty again for the next round; sometimes forgotten first, as a stream whose messages were all appended.
            Assert.True(await holder.Delayed.Cancel(stream, token));
            if (i % 3 == 0)
                Assert.True(await retention.Delayed.ForgetStreamIfEmpty(stream));
        }

        // Both orders happened: retention forgot the stream before the message came, and found the message first.
        Assert.True(forgotten > 0 && kept > 0, $"forgotten {forgotten}, kept {kept}");
    }

    [Fact]
    public async Task A_temporary_endpoints_group_whose_consumer_read_recently_stays_though_its_queue_is_gone()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var stream = redis.Key("events:GrowthTick");
        await db.StreamAddAsync(stream, "body", "{}");
        await db.StreamCreateConsumerGroupAsync(stream, "gone_bus", "0");
        await db.StreamCreateConsumerGroupAsync(stream, "reading_bus", "0");
        await db.StreamReadGroupAsync(stream, "reading_bus", "c1", ">", 1);
        await db.StreamAcknowledgeAsync(stream, "reading_bus", (await db.StreamRangeAsync(stream)).Single().Id);

        var report = await Admin(db, redis).Trim();

        Assert.Equal([stream.ToString() + "/gone_bus"], report.RemovedGroups);
        Assert.Equal(["reading_bus"], (await db.StreamGroupInfoAsync(stream)).Select(x => x.Name));
    }

    [Fact]
    public async Task Groups_of_durable_endpoints_inactive_longer_than_the_expiry_go_only_when_asked_and_never_those_of_live_endpoints()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var stream = redis.Key("events:GrowthTick");

        // One endpoint ran and stopped; another runs, polling often.
        var stopped = CreateBus(redis, ShortHold, cfg => cfg.ReceiveEndpoint("stopped", e => e.Handler<GrowthTick>(_ => Task.CompletedTask)));
        await stopped.StartAsync();
        await stopped.StopAsync();
        var live = CreateBus(redis, ShortHold, cfg => cfg.ReceiveEndpoint("live", e => e.Handler<GrowthTick>(_ => Task.CompletedTask)),
            h => h.IdlePollInterval = TimeSpan.FromMilliseconds(100));
        await live.StartAsync();
        try
        {
            await live.Publish(new GrowthTick(1));

            // By default such groups stay.
            Assert.Empty((await Admin(db, redis).Trim()).RemovedGroups);

            // Asked for, the stopped endpoint's group goes once it has been inactive that long; the first pass only sees it.
            var admin = Admin(db, redis, r => r.InactiveGroupExpiry = TimeSpan.FromSeconds(1));
            Assert.Empty((await admin.Trim()).RemovedGroups);
            var removed = new System.Collections.Generic.List<string>();
            Assert.True(await Eventually.True(async () =>
            {
                removed.AddRange((await admin.Trim()).RemovedGroups);
                return removed.Count > 0;
            }, Timeout));

            Assert.Equal([stream.ToString() + "/stopped"], removed);
            Assert.Equal(["live"], (await db.StreamGroupInfoAsync(stream)).Select(x => x.Name));
            Assert.False(await db.HashExistsAsync(redis.Beside("events:GrowthTick", "subscribers"), "stopped"));
            Assert.True(await db.HashExistsAsync(redis.Beside("events:GrowthTick", "subscribers"), "live"));
        }
        finally
        {
            await live.StopAsync();
        }
    }

    [Fact]
    public void The_group_expiries_are_validated()
    {
        var settings = new RetentionSettings { TemporaryGroupExpiry = TimeSpan.FromSeconds(5), InactiveGroupExpiry = TimeSpan.FromMinutes(1) };

        var failures = settings.Validate().Select(x => x.Key).ToArray();

        Assert.Contains(failures, x => x.Contains("TemporaryGroupExpiry", StringComparison.Ordinal));
        Assert.Contains(failures, x => x.Contains("InactiveGroupExpiry", StringComparison.Ordinal));
        Assert.Empty(new RetentionSettings { InactiveGroupExpiry = TimeSpan.FromDays(7) }.Validate());
    }

    internal static IBusControl CreateBus(RedisTestContext redis, TimeSpan hold, Action<IRedisStreamsBusFactoryConfigurator>? configure = null,
        Action<IRedisStreamsHostConfigurator>? host = null, bool agent = false)
    {
        return Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h =>
            {
                h.KeyPrefix = redis.KeyPrefix;
                host?.Invoke(h);
            });
            cfg.Retention(r =>
            {
                r.Enabled = agent;
                r.Interval = TimeSpan.FromSeconds(1);
                ((RetentionSettings)r).HostRecordHold = hold;
            });
            configure?.Invoke(cfg);
        });
    }

    /// <summary>
    /// An admin whose passes allow for as little clock difference as the short holds of these tests need (the allowance is a
    /// quarter of the hold, at most a minute).
    /// </summary>
    internal static RedisStreamsAdmin Admin(IDatabase db, RedisTestContext redis, Action<IRedisStreamsRetentionConfigurator>? retention = null)
    {
        return new RedisStreamsAdmin(db.Multiplexer, redis.KeyPrefix, retention: r =>
        {
            ((RetentionSettings)r).HostRecordHold = ShortHold;
            retention?.Invoke(r);
        });
    }

    internal static RedisGateway Gateway(IDatabase db, RedisTestContext redis) =>
        new(new RedisConnection(db.Multiplexer, observe: false), new StreamKeys(redis.KeyPrefix));

    static NewEntry Entry()
    {
        var entry = new NewEntry();
        entry.Add("body", "{}");
        return entry;
    }

    internal static async Task<long> ServerMs(IDatabase db)
    {
        var time = (RedisResult[])(await db.ExecuteAsync("TIME"))!;
        return (long)time[0] * 1000 + (long)time[1] / 1000;
    }
}


[EntityName("GrowthTick")]
public record GrowthTick(int Number);


/// <summary>A log kept whole, longer than one round reads: the records it names stay, the others go.</summary>
public class LongLogHostRecordTests
{
    [Fact]
    public async Task Beside_a_log_longer_than_a_round_reads_the_records_it_names_stay_and_the_others_go()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var gateway = BoundedGrowthTests.Gateway(db, redis);
        var hold = TimeSpan.FromMilliseconds(400);

        // The log: 2,500 events of one process. Then another process that names its record in nothing that is kept.
        var logged = new HostRecords(gateway.Hosts, () => new Uri("redis://127.0.0.1/logged_bus?temporary=true"), hold);
        await logged.EnsureOwnStored();
        for (var i = 0; i < 2_500; i += 250)
        {
            await Task.WhenAll(Enumerable.Range(i, 250).Select(n =>
            {
                var entry = new NewEntry();
                entry.Add("body", "{\"n\":" + n + "}");
                entry.Add(EntryFieldNames.Host, logged.Own.Id);
                return gateway.Appends.Append(redis.Key("events:Log"), entry, onlyIfStreamExists: false);
            }));
        }

        var passing = new HostRecords(gateway.Hosts, () => new Uri("redis://127.0.0.1/passing_bus?temporary=true"), hold);
        await passing.EnsureOwnStored();

        // The log keeps everything (the default); the record nothing names goes after the rounds that read the log.
        var admin = BoundedGrowthTests.Admin(db, redis);
        var rounds = 0;
        Assert.True(await Eventually.True(async () =>
        {
            await admin.Trim();
            rounds++;
            return !await db.HashExistsAsync(redis.Key("hosts"), passing.Own.Id);
        }, TimeSpan.FromSeconds(20)));

        Assert.True(rounds >= 3, $"{rounds} rounds: the log is read {HostRecordSweep.ScanLimit} entries a round");
        Assert.True(await db.HashExistsAsync(redis.Key("hosts"), logged.Own.Id));

        // Once the log is trimmed past them, its records go too.
        await db.StreamTrimAsync(redis.Key("events:Log"), 0);
        Assert.True(await Eventually.True(async () =>
        {
            await admin.Trim();
            return !await db.HashExistsAsync(redis.Key("hosts"), logged.Own.Id);
        }, TimeSpan.FromSeconds(20)));
    }
}
