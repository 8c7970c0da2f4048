namespace MassTransit.RedisStreams.Tests.Topologies;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Contract;
using Faults;
using History;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Redis;
using RedisStreams.Redis;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;


/// <summary>One private Redis Cluster of three primaries for all the tests of a class.</summary>
public sealed class ClusterFixture :
    IAsyncLifetime
{
    RedisClusterProcess? _cluster;

    public RedisClusterProcess Cluster => _cluster ?? throw new InvalidOperationException("The cluster did not start");

    public async Task InitializeAsync()
    {
        if (RedisClusterProcess.IsAvailable)
            _cluster = await RedisClusterProcess.Start();
    }

    public Task DisposeAsync()
    {
        _cluster?.Dispose();
        return Task.CompletedTask;
    }
}


/// <summary>What the cluster tests share: prefixes that spread streams over the primaries, and a harness on the cluster.</summary>
static class ClusterSupport
{
    /// <summary>
    /// Three times: waits until the idle endpoint has armed its wake flag <paramref name="wake" />, sends lot
    /// <paramref name="firstLot" /> + i, and measures how long it took to arrive (<paramref name="arrivedAt" /> is stamped by the
    /// handler). Returns the latencies in ms.
    /// </summary>
    public static async Task<List<double>> IdleDeliveryLatencies(IDatabase db, RedisKey wake, ISendEndpoint endpoint,
        ConcurrentDictionary<int, long> arrivedAt, int firstLot, TimeSpan timeout)
    {
        var latencies = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await Eventually.True(() => db.KeyExistsAsync(wake), timeout), "the idle endpoint armed its wake flag");
            var lot = firstLot + i;
            var sentAt = Stopwatch.GetTimestamp();
            await endpoint.Send(new LotSold(lot, "idle", 1));
            Assert.True(await Eventually.True(() => arrivedAt.ContainsKey(lot), timeout), $"lot {lot}, sent to the idle endpoint, arrives");
            latencies.Add(Stopwatch.GetElapsedTime(sentAt, arrivedAt[lot]).TotalMilliseconds);
        }

        return latencies;
    }

    /// <summary>
    /// A key prefix under which the given keys (relative to the prefix, e.g. <c>queue:orders</c>) hash to slots of at least
    /// <paramref name="primaries" /> different primaries, so that a test covers streams on different nodes.
    /// </summary>
    public static async Task<string> SpreadPrefix(RedisClusterProcess cluster, int primaries, params string[] keys)
    {
        var nodes = await cluster.GetNodes();
        var ranges = nodes.Where(x => x.IsPrimary).Select(x => (x.Port, x.Slots)).ToList();
        while (true)
        {
            var prefix = TestRedis.NewKeyPrefix();
            var owners = keys.Select(key => ranges.First(r => r.Slots.Any(s => s.First <= Slot(prefix, key) && Slot(prefix, key) <= s.Last)).Port)
                .Distinct().Count();
            if (owners >= Math.Min(primaries, keys.Length))
                return prefix;
        }
    }

    public static int Slot(string prefix, string key) => RedisClusterProcess.SlotOf(prefix + ":" + key);

    public static RedisTestContext Context(RedisClusterProcess cluster, string prefix) => RedisTestContext.Create(cluster.ConnectionString, prefix);
}


/// <summary>
/// A whole bus on a Redis Cluster of three primaries, with the streams of each test in slots of different primaries: send,
/// publish, polymorphic publish, request/response, the claims of a killed instance's entries, the event log and scheduling.
/// Wake-ups go over sharded pub/sub and arrive long before the idle poll.
/// </summary>
[Trait("Category", "Cluster")]
public class ClusterTests :
    IClassFixture<ClusterFixture>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    readonly ClusterFixture _fixture;
    readonly ITestOutputHelper _output;

    public ClusterTests(ClusterFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    RedisClusterProcess Cluster => _fixture.Cluster;

    [RedisClusterFact]
    public async Task The_tools_move_between_streams_in_different_hash_slots_appends_each_entry_once_and_deletes_it_from_the_source()
    {
        var prefix = await ClusterSupport.SpreadPrefix(Cluster, 2, "queue:ledger_error", "queue:audit");
        var redis = ClusterSupport.Context(Cluster, prefix);
        var db = await redis.Database();
        var source = redis.Key("queue:ledger_error");
        var target = redis.Key("queue:audit");
        Assert.NotEqual(RedisClusterProcess.SlotOf(source), RedisClusterProcess.SlotOf(target));

        await db.StreamCreateConsumerGroupAsync(target, "audit", "0", true);
        for (var i = 0; i < 250; i++)
            await db.StreamAddAsync(source, [new NameValueEntry("body", $"{{\"lot\":{i}}}"), new NameValueEntry("MT-Reason", "fault")]);

        var dryRun = await CliProcess.Run(redis.ConnectionString, prefix, "move", "queue:ledger_error", "--to", "audit", "--dry-run", "-o", "json");
        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        Assert.False(System.Text.Json.JsonDocument.Parse(dryRun.Output).RootElement.GetProperty("atomic").GetBoolean());
        Assert.Equal(250, await db.StreamLengthAsync(source));

        var result = await CliProcess.Run(redis.ConnectionString, prefix, "move", "queue:ledger_error", "--to", "audit", "--yes");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Moved 250 messages from queue:ledger_error: 250 to queue:audit.", result.Output);
        Assert.Equal(0, await db.StreamLengthAsync(source));
        var bodies = (await db.StreamRangeAsync(target)).Select(x => (string)x["body"]!).ToList();
        Assert.Equal(Enumerable.Range(0, 250).Select(i => $"{{\"lot\":{i}}}"), bodies);
    }

    [RedisClusterFact]
    public async Task Sends_publishes_and_polymorphic_publishes_reach_endpoints_whose_streams_live_on_different_primaries()
    {
        const string interfaceStream = "events:MassTransit.RedisStreams.Tests.History:ILotEvent";
        var prefix = await ClusterSupport.SpreadPrefix(Cluster, 3, "queue:lot-audit", "events:LotSold", "events:LotWithdrawn", interfaceStream,
            "queue:ledger");
        var redis = ClusterSupport.Context(Cluster, prefix);

        await using var provider = await redis.StartHarness(_ => { }, (context, cfg) =>
        {
            var audit = context.GetRequiredService<Recorder<string>>();
            var ledger = context.GetRequiredService<Recorder<int>>();

            // One endpoint reads its queue, the interface's stream and the streams of the two classes: four slots.
            cfg.ReceiveEndpoint("lot-audit", e => e.Handler<ILotEvent>(ctx =>
            {
                audit.Add((ctx.TryGetMessage<LotSold>(out _) ? "LotSold:" : "LotWithdrawn:") + ctx.Message.Lot);
                return Task.CompletedTask;
            }));
            cfg.ReceiveEndpoint("ledger", e =>
            {
                e.ConcurrentMessageLimit = 1;
                e.Handler<LotSold>(ctx =>
                {
                    ledger.Add(ctx.Message.Lot);
                    return Task.CompletedTask;
                });
                e.Handler<LotWithdrawn>(ctx =>
                {
                    ledger.Add(-ctx.Message.Lot);
                    return Task.CompletedTask;
                });
            });
        }, services: s => s.AddSingleton<Recorder<string>>().AddSingleton<Recorder<int>>());

        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        var audit = provider.GetRequiredService<Recorder<string>>();
        var ledger = provider.GetRequiredService<Recorder<int>>();

        for (var i = 1; i <= 10; i++)
            await bus.Publish(new LotSold(i, "b", i));
        for (var i = 1; i <= 5; i++)
            await bus.Publish(new LotWithdrawn(i, "r"));

        var sender = await bus.GetSendEndpoint(new Uri("queue:ledger"));
        for (var i = 100; i < 110; i++)
            await sender.Send(new LotSold(i, "direct", 1));

        var audited = await audit.WaitForCount(15);
        var booked = await ledger.WaitForCount(25);

        Assert.Equal(Enumerable.Range(1, 10).Select(i => "LotSold:" + i).Concat(Enumerable.Range(1, 5).Select(i => "LotWithdrawn:" + i)).Order(),
            audited.Order());
        Assert.Equal(Enumerable.Range(1, 10).Concat(Enumerable.Range(1, 5).Select(i => -i)).Concat(Enumerable.Range(100, 10)).Order(), booked.Order());

        // Order holds per stream: the sent lots, and the published ones of each type, each in the order they were appended.
        Assert.Equal(Enumerable.Range(100, 10), booked.Where(x => x >= 100));
        Assert.Equal(Enumerable.Range(1, 10), booked.Where(x => x is > 0 and < 100));
        Assert.Equal(Enumerable.Range(1, 5).Select(i => -i), booked.Where(x => x < 0));
    }

    [RedisClusterFact]
    public async Task A_request_gets_its_response_through_the_temporary_stream_of_the_requesting_bus()
    {
        var prefix = await ClusterSupport.SpreadPrefix(Cluster, 2, "queue:seat-service", "events:LotSold");
        var redis = ClusterSupport.Context(Cluster, prefix);

        await using var provider = await redis.StartHarness(x => x.AddRequestClient<ReserveSeat>(new Uri("queue:seat-service")), (_, cfg) =>
            cfg.ReceiveEndpoint("seat-service", e => e.Handler<ReserveSeat>(ctx => ctx.RespondAsync(new LotSold(ctx.Message.Seat, "seat", 1)))));

        await using var scope = provider.CreateAsyncScope();
        var client = scope.ServiceProvider.GetRequiredService<IRequestClient<ReserveSeat>>();
        for (var i = 0; i < 5; i++)
        {
            var response = await client.GetResponse<LotSold>(new ReserveSeat(Guid.NewGuid(), i), timeout: RequestTimeout.After(s: 20));
            Assert.Equal(i, response.Message.Lot);
        }
    }

    [RedisClusterFact]
    public async Task Wake_ups_go_over_sharded_pub_sub_and_deliver_far_sooner_than_the_idle_poll()
    {
        var prefix = await ClusterSupport.SpreadPrefix(Cluster, 2, "queue:pings", "events:LotSold");
        var redis = ClusterSupport.Context(Cluster, prefix);
        var db = await redis.Database();
        var queue = redis.Key("queue:pings");
        var events = redis.Key("events:LotSold");
        var idlePoll = TimeSpan.FromSeconds(20);

        var arrived = new ConcurrentDictionary<int, long>();
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) => cfg.ReceiveEndpoint("pings", e => e.Handler<LotSold>(ctx =>
        {
            arrived.TryAdd(ctx.Message.Lot, Stopwatch.GetTimestamp());
            return Task.CompletedTask;
        })), h => h.IdlePollInterval = idlePoll);
        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        var sender = await bus.GetSendEndpoint(new Uri("queue:pings"));

        // The endpoint listens on the sharded channels, on the primaries that serve its streams' slots.
        foreach (var stream in new[] { queue, events })
        {
            var channel = new StreamKeys(redis.KeyPrefix).WakeChannel(stream).ToString();
            var owner = await Cluster.PrimaryOf(RedisClusterProcess.SlotOf(stream));
            await using var connection = await ConnectionMultiplexer.ConnectAsync(owner.ConnectionString);
            var channels = (RedisResult[])(await connection.GetServers()[0].ExecuteAsync("PUBSUB", "SHARDCHANNELS", channel))!;
            Assert.Equal([channel], channels.Select(x => (string?)x));
        }

        var latencies = new List<double>();
        for (var i = 0; i < 6; i++)
        {
            // Idle, with its wake flags set: only a wake-up, or the idle poll 20 s later, brings the next message.
            var flag = new StreamKeys(redis.KeyPrefix).Wake(i % 2 == 0 ? queue : events);
            Assert.True(await Eventually.True(() => db.KeyExistsAsync(flag), Timeout), "the idle endpoint armed its wake flags");

            var sentAt = Stopwatch.GetTimestamp();
            if (i % 2 == 0)
                await sender.Send(new LotSold(i, "ping", 1));
            else
                await bus.Publish(new LotSold(i, "ping", 1));

            Assert.True(await Eventually.True(() => arrived.ContainsKey(i), Timeout), $"message {i} arrived");
            latencies.Add(Stopwatch.GetElapsedTime(sentAt, arrived[i]).TotalMilliseconds);
        }

        _output.WriteLine($"delivery latency of an idle endpoint on the cluster, ms: {string.Join(", ", latencies.Select(x => x.ToString("0.0")))}");
        Assert.All(latencies, x => Assert.True(x < idlePoll.TotalMilliseconds / 10, $"{x:0} ms: delivered by a wake-up, not by the poll"));
    }

    [RedisClusterFact]
    public async Task The_entries_of_a_killed_instance_are_claimed_and_handled_by_another()
    {
        const int sent = 12;
        var prefix = TestRedis.NewKeyPrefix();
        var redis = ClusterSupport.Context(Cluster, prefix);
        var db = await redis.Database();
        var proof = new Proof(db, prefix);
        var queue = redis.Key("queue:work");

        using var doomed = await ConsumerHostProcess.Start(Cluster.ConnectionString, prefix,
            ("consumer-name", "doomed"), ("prefetch", sent), ("concurrency", 1), ("handler-ms", 1000));

        await using (var sender = await WorkSender.Start(Cluster.ConnectionString, prefix))
            await sender.Send(0, sent);

        Assert.True(await Eventually.True(async () => await Faults.CrashRecoveryTests.PendingFor(db, queue, "doomed") == sent, Timeout), "the doomed instance read every entry");

        using var survivor = await ConsumerHostProcess.Start(Cluster.ConnectionString, prefix,
            ("consumer-name", "survivor"), ("prefetch", 50), ("concurrency", 50), ("handler-ms", 10));

        var killed = Stopwatch.StartNew();
        doomed.Kill();

        var orphaned = (await db.StreamPendingMessagesAsync(queue, "work", sent, "doomed")).Select(x => x.MessageId.ToString()).ToList();
        Assert.NotEmpty(orphaned);

        var entries = (RedisKey)(prefix + ":proof:entries");
        Assert.True(await Eventually.True(async () =>
        {
            var handled = (await db.HashGetAllAsync(entries)).ToDictionary(x => x.Name.ToString(), x => x.Value.ToString());
            return orphaned.All(id => handled.TryGetValue(id, out var by) && by.EndsWith(" survivor", StringComparison.Ordinal));
        }, Timeout), "the survivor handled the killed instance's entries");
        _output.WriteLine($"{orphaned.Count} orphaned entries handled by the survivor within {killed.Elapsed.TotalSeconds:0.0} s of the kill");

        Assert.True(await proof.AllHandled(sent, Timeout), "every message is handled");
        var counts = await proof.Count(sent);
        _output.WriteLine(counts.ToString());
        Assert.Equal(0, counts.Lost);
    }

    [RedisClusterFact]
    public async Task The_event_log_reads_replays_rewinds_and_trims_streams_on_every_primary()
    {
        var prefix = await ClusterSupport.SpreadPrefix(Cluster, 3, "events:LotSold", "events:LotWithdrawn", "queue:projection", "queue:replayed");
        var redis = ClusterSupport.Context(Cluster, prefix);
        var db = await redis.Database();

        await using var provider = await redis.StartHarness(_ => { }, (context, cfg) =>
        {
            cfg.Retention(r => r.MessageType<LotWithdrawn>(RedisStreamsRetentionPolicy.Entries(3)));
            var projection = context.GetRequiredService<Recorder<int>>();
            var replayed = context.GetRequiredService<Recorder<string>>();
            cfg.ReceiveEndpoint("projection", e =>
            {
                e.ConcurrentMessageLimit = 1;
                e.Handler<LotSold>(ctx =>
                {
                    projection.Add(ctx.Message.Lot);
                    return Task.CompletedTask;
                });
                e.Handler<LotWithdrawn>(ctx =>
                {
                    projection.Add(-ctx.Message.Lot);
                    return Task.CompletedTask;
                });
            });
            cfg.ReceiveEndpoint("replayed", e => e.Handler<LotSold>(ctx =>
            {
                replayed.Add("sold:" + ctx.Message.Lot);
                return Task.CompletedTask;
            }));
        }, services: s => s.AddSingleton<Recorder<int>>().AddSingleton<Recorder<string>>());

        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        var projection = provider.GetRequiredService<Recorder<int>>();
        var replayed = provider.GetRequiredService<Recorder<string>>();
        var history = provider.GetRequiredService<IRedisStreamsEventHistory>();

        for (var i = 1; i <= 10; i++)
            await bus.Publish(new LotSold(i, "b", i));
        for (var i = 1; i <= 10; i++)
            await bus.Publish(new LotWithdrawn(i, "r"));
        await projection.WaitForCount(20);
        await replayed.WaitForCount(10);

        // History: newest first, per type and across the streams of an interface's types.
        var sold = await history.GetEvents<LotSold>(count: 10);
        Assert.Equal(Enumerable.Range(1, 10).Reverse(), sold.Select(x => x.Message!.Lot));
        var all = await history.GetEvents<ILotEvent>(count: 20);
        Assert.Equal(20, all.Count);

        // The overview scans every primary.
        var overview = await history.GetOverview();
        Assert.Contains(overview, x => x.Name == "LotSold" && x.Length == 10);
        Assert.Contains(overview, x => x.Name == "LotWithdrawn" && x.Length == 10);

        // Replay to one endpoint; rewind another.
        Assert.Equal(10, await history.Replay<LotSold>("replayed"));
        await replayed.WaitForCount(20);

        // Back to the sixth LotSold: in each stream the group moves to that time, so the last five LotSold come again, and
        // every LotWithdrawn, all published later; each stream in its own order.
        var sixth = sold[4];
        var moved = await history.Rewind("projection", to: sixth.EntryId);
        Assert.Equal(new[] { redis.Key("events:LotSold").ToString(), redis.Key("events:LotWithdrawn").ToString() }.Order(), moved.Keys.Order());
        var rebuilt = await projection.WaitForCount(35);
        Assert.Equal(Enumerable.Range(6, 5), rebuilt.Skip(20).Where(x => x > 0));
        Assert.Equal(Enumerable.Range(1, 10).Select(x => -x), rebuilt.Skip(20).Where(x => x < 0));

        // Retention: the trim visits the streams on every primary.
        Assert.True(await Eventually.True(async () =>
            (await db.StreamPendingAsync(redis.Key("events:LotWithdrawn"), "projection")).PendingMessageCount == 0, Timeout));
        var report = await provider.GetRequiredService<IRedisStreamsAdmin>().Trim();
        Assert.Equal(3, await db.StreamLengthAsync(redis.Key("events:LotWithdrawn")));
        Assert.Equal(10, await db.StreamLengthAsync(redis.Key("events:LotSold")));
        Assert.Equal(7, report.Removed[redis.Key("events:LotWithdrawn").ToString()]);
        Assert.True(report.StreamsExamined >= 4, $"examined {report.StreamsExamined}");
    }

    [RedisClusterFact]
    public async Task Scheduled_messages_wait_beside_their_streams_and_arrive_when_due_or_are_cancelled()
    {
        var prefix = await ClusterSupport.SpreadPrefix(Cluster, 2, "queue:reserve-seat", "queue:release-seat", "scheduled-tokens", "delayed-streams");
        var redis = ClusterSupport.Context(Cluster, prefix);
        var db = await redis.Database();

        await using var provider = await redis.StartHarness(x => x.AddRedisStreamsMessageScheduler(), (context, cfg) =>
        {
            cfg.UseRedisStreamsMessageScheduler();
            var deliveries = context.GetRequiredService<Recorder<Delivery>>();
            foreach (var name in new[] { "reserve-seat", "release-seat" })
            {
                cfg.ReceiveEndpoint(name, e => e.Handler<ReserveSeat>(ctx =>
                {
                    deliveries.Add(new Delivery(ctx.Message.BookingId, ctx.Message.Seat, DateTime.UtcNow));
                    return Task.CompletedTask;
                }));
            }
        }, services: s => s.AddSingleton<Recorder<Delivery>>());
        var deliveries = provider.GetRequiredService<Recorder<Delivery>>();

        await using var scope = provider.CreateAsyncScope();
        var scheduler = scope.ServiceProvider.GetRequiredService<IMessageScheduler>();

        var sent = DateTime.UtcNow;
        var delay = TimeSpan.FromMilliseconds(800);
        var reserve = Guid.NewGuid();
        var release = Guid.NewGuid();
        await scheduler.ScheduleSend(new Uri("queue:reserve-seat"), sent + delay, new ReserveSeat(reserve, 1));
        await scheduler.ScheduleSend(new Uri("queue:release-seat"), sent + delay, new ReserveSeat(release, 2));
        var cancelled = await scheduler.ScheduleSend(new Uri("queue:release-seat"), sent + delay, new ReserveSeat(Guid.NewGuid(), 3));

        Assert.Equal(2, await db.SortedSetLengthAsync(new StreamKeys(redis.KeyPrefix).Delayed(redis.Key("queue:release-seat"))));
        await scheduler.CancelScheduledSend(new Uri("queue:release-seat"), cancelled.TokenId);

        var arrived = await deliveries.WaitForCount(2);
        Assert.Equal(new[] { reserve, release }.Order(), arrived.Select(x => x.BookingId).Order());
        Assert.All(arrived, x => Assert.True(x.At - sent >= delay - TimeSpan.FromMilliseconds(30)));

        Assert.Equal(0, await db.SortedSetLengthAsync(new StreamKeys(redis.KeyPrefix).Delayed(redis.Key("queue:release-seat"))));
        Assert.Equal(0, await db.SortedSetLengthAsync(new StreamKeys(redis.KeyPrefix).Delayed(redis.Key("queue:reserve-seat"))));
        Assert.Equal(0, await db.HashLengthAsync(redis.Key("scheduled-tokens")));
    }

    [RedisClusterFact]
    public async Task The_operators_tool_lists_and_rewinds_streams_on_every_primary()
    {
        var prefix = await ClusterSupport.SpreadPrefix(Cluster, 3, "events:LotSold", "events:LotWithdrawn", "queue:ledger");
        var redis = ClusterSupport.Context(Cluster, prefix);
        var db = await redis.Database();

        await using (var provider = await redis.StartHarness(_ => { }, (context, cfg) =>
        {
            var ledger = context.GetRequiredService<Recorder<int>>();
            cfg.ReceiveEndpoint("ledger", e =>
            {
                e.Handler<LotSold>(ctx =>
                {
                    ledger.Add(ctx.Message.Lot);
                    return Task.CompletedTask;
                });
                e.Handler<LotWithdrawn>(ctx =>
                {
                    ledger.Add(-ctx.Message.Lot);
                    return Task.CompletedTask;
                });
            });
        }, services: s => s.AddSingleton<Recorder<int>>()))
        {
            var bus = provider.GetRequiredService<ITestHarness>().Bus;
            for (var i = 1; i <= 3; i++)
            {
                await bus.Publish(new LotSold(i, "b", i));
                await bus.Publish(new LotWithdrawn(i, "r"));
            }

            await provider.GetRequiredService<Recorder<int>>().WaitForCount(6);
        }

        var streams = await CliProcess.Run(Cluster.ConnectionString, prefix, "streams");
        Assert.True(streams.ExitCode == 0, streams.ToString());
        var lines = streams.Output.Split('\n');
        Assert.Contains(lines, x => x.Contains("LotSold", StringComparison.Ordinal) && x.Contains(" 3 ", StringComparison.Ordinal));
        Assert.Contains(lines, x => x.Contains("LotWithdrawn", StringComparison.Ordinal) && x.Contains(" 3 ", StringComparison.Ordinal));
        Assert.Contains(lines, x => x.Contains("queue", StringComparison.Ordinal) && x.Contains("ledger", StringComparison.Ordinal));

        var rewind = await CliProcess.Run(Cluster.ConnectionString, prefix, "rewind", "ledger", "--to", "0", "--yes");
        Assert.True(rewind.ExitCode == 0, rewind.ToString());
        Assert.Contains("Moved ledger in 2 streams.", rewind.Output);
        foreach (var type in new[] { "events:LotSold", "events:LotWithdrawn" })
            Assert.Equal(3, (await db.StreamGroupInfoAsync(redis.Key(type))).Single(x => x.Name == "ledger").Lag);
    }

    [RedisClusterFact]
    public async Task A_scan_in_pages_visits_every_primary_and_finds_each_stream_once()
    {
        var names = Enumerable.Range(0, 12).Select(i => "events:Type" + i).ToArray();
        var prefix = await ClusterSupport.SpreadPrefix(Cluster, 3, names);
        await using var multiplexer = await ConnectionMultiplexer.ConnectAsync(Cluster.ConnectionString);
        var client = new RedisGateway(new RedisConnection(multiplexer, observe: false), new StreamKeys(prefix));
        foreach (var name in names)
            await multiplexer.GetDatabase().StreamAddAsync(prefix + ":" + name, "body", "{}");

        // Pages of two, as the background retention pass goes on from one call to the next.
        var found = new List<string>();
        RedisValue cursor = "0";
        var pages = 0;
        do
        {
            (cursor, var keys) = await client.Admin.ScanStreams(cursor, client.Keys.EventsPattern, 2);
            found.AddRange(keys.Select(x => x.ToString()));
            pages++;
        }
        while (cursor != "0" && pages < 1000);

        Assert.Equal(names.Select(x => prefix + ":" + x).Order(), found.Order());
        Assert.Equal(names.Length, (await client.Admin.ScanAllStreams(client.Keys.EventsPattern)).Count);
    }
}


/// <summary>
/// A queue's hash slot moves to another primary while a producer sends to it and an endpoint consumes it: every message sent
/// arrives (at least once), the scripts run on the new primary, and wake-ups follow the slot.
/// </summary>
[Trait("Category", "Cluster")]
public class ClusterSlotMigrationTests :
    IClassFixture<ClusterFixture>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    readonly ClusterFixture _fixture;
    readonly ITestOutputHelper _output;

    public ClusterSlotMigrationTests(ClusterFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    /// <param name="how">
    /// <c>key-by-key</c>: by hand, one key at a time, waiting while the slot is half moved (appends get TRYAGAIN);
    /// <c>all-at-once</c>: by hand, every key in one MIGRATE; <c>redis-cli</c>: <c>redis-cli --cluster reshard</c> of one
    /// slot, the queue's (the first of its primary's slots, which is the one reshard takes).
    /// </param>
    [RedisClusterTheory]
    [InlineData("key-by-key")]
    [InlineData("all-at-once")]
    [InlineData("redis-cli")]
    public async Task A_queue_whose_slot_moves_to_another_primary_while_messages_flow_loses_nothing(string how)
    {
        var cluster = _fixture.Cluster;
        var prefix = how == "redis-cli" ? await PrefixOnFirstSlot(cluster, "queue:moving") : TestRedis.NewKeyPrefix();
        var redis = ClusterSupport.Context(cluster, prefix);
        var db = await redis.Database();
        var queue = redis.Key("queue:moving");
        var slot = RedisClusterProcess.SlotOf(queue);
        var idlePoll = TimeSpan.FromSeconds(20);

        var received = new ConcurrentDictionary<int, int>();
        var arrivedAt = new ConcurrentDictionary<int, long>();
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) => cfg.ReceiveEndpoint("moving", e => e.Handler<LotSold>(ctx =>
        {
            received.AddOrUpdate(ctx.Message.Lot, 1, (_, count) => count + 1);
            arrivedAt.TryAdd(ctx.Message.Lot, Stopwatch.GetTimestamp());
            return Task.CompletedTask;
        })), h => h.IdlePollInterval = idlePoll);
        var bus = provider.GetRequiredService<ITestHarness>().Bus;
        var sender = await bus.GetSendEndpoint(new Uri("queue:moving"));

        // A steady flow from four senders until told to stop.
        var accepted = new ConcurrentBag<int>();
        var failed = new ConcurrentBag<(int, Exception)>();
        var next = -1;
        using var stop = new CancellationTokenSource();
        var producers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var lot = Interlocked.Increment(ref next);
                try
                {
                    await sender.Send(new LotSold(lot, "flow", 1));
                    accepted.Add(lot);
                }
                catch (Exception exception)
                {
                    failed.Add((lot, exception));
                }
            }
        })).ToArray();

        Assert.True(await Eventually.True(() => received.Count >= 300, Timeout), "messages flow before the move");

        var source = await cluster.PrimaryOf(slot);
        var target = cluster.Nodes.First(x => x != source);

        // Both primaries forget every script while the appends go on: an EVALSHA meets NOSCRIPT, and the script is sent again.
        await RedisClusterProcess.FlushScripts(source);
        await RedisClusterProcess.FlushScripts(target);

        var watch = Stopwatch.StartNew();

        // The keys move one at a time; while the stream and its clock are on different nodes, the append script gets TRYAGAIN
        // and the senders retry, until the move goes on.
        long tryAgain = 0;
        var moved = -1;
        if (how == "redis-cli")
            await cluster.Reshard(source, target, 1);
        else
        {
            moved = await cluster.MigrateSlot(slot, target, how != "key-by-key" ? null : async node =>
            {
                var before = await RedisClusterProcess.ErrorCount(node, "TRYAGAIN");
                Assert.True(await Eventually.True(async () => await RedisClusterProcess.ErrorCount(node, "TRYAGAIN") >= before + 5, Timeout),
                    "appends met the half-moved slot");
                tryAgain = await RedisClusterProcess.ErrorCount(node, "TRYAGAIN") - before;
            });
            Assert.True(moved >= 2, "the stream and the keys beside it moved");
        }

        var sentBeforeEnd = Volatile.Read(ref next);
        _output.WriteLine($"{how}: slot {slot} with {moved} keys moved from :{source.Port} to :{target.Port} in {watch.ElapsedMilliseconds} ms, "
            + $"{tryAgain} TRYAGAIN answers while half moved; {sentBeforeEnd + 1} sends started by then");
        Assert.Equal(target, await cluster.PrimaryOf(slot));

        // Promptly: a wake-up lost while the subscription moved would leave the endpoint waiting for its idle poll.
        var moveEnded = watch.Elapsed;
        Assert.True(await Eventually.True(() => received.Count >= sentBeforeEnd + 300, Timeout), "messages flow after the move");
        _output.WriteLine($"{watch.ElapsedMilliseconds} ms: {received.Count} received");
        Assert.True(watch.Elapsed - moveEnded < idlePoll / 2, $"the endpoint went on within {watch.Elapsed - moveEnded}, not after an idle poll");
        await stop.CancelAsync();
        await Task.WhenAll(producers);
        _output.WriteLine($"{watch.ElapsedMilliseconds} ms: producers stopped");

        Assert.True(await Eventually.True(() => accepted.All(received.ContainsKey), Timeout),
            $"every accepted send arrives ({accepted.Count(received.ContainsKey)} of {accepted.Count})");
        _output.WriteLine($"{watch.ElapsedMilliseconds} ms: all received; NOSCRIPT answers of the old primary: "
            + $"{await RedisClusterProcess.ErrorCount(source, "NOSCRIPT")}, of the new: {await RedisClusterProcess.ErrorCount(target, "NOSCRIPT")}");
        var duplicates = received.Values.Sum(x => x - 1);
        _output.WriteLine($"{accepted.Count} sends accepted, {failed.Count} failed, {received.Count} distinct received, {duplicates} duplicates");
        Assert.Empty(failed.Select(x => x.Item2.Message).Distinct());

        // The stream lives on the new primary now, and an idle endpoint is still woken there, not only by the poll.
        await using (var owner = await ConnectionMultiplexer.ConnectAsync(target.ConnectionString))
            Assert.True(await owner.GetDatabase().KeyExistsAsync(queue));

        var wake = new StreamKeys(redis.KeyPrefix).Wake(queue);
        var latencies = await ClusterSupport.IdleDeliveryLatencies(db, wake, sender, arrivedAt, 1_000_000, Timeout);

        // The slot moves back while the endpoint is idle, waiting for a wake-up; a message sent right after arrives at once.
        Assert.True(await Eventually.True(() => db.KeyExistsAsync(wake), Timeout), "the idle endpoint armed its wake flag");
        await cluster.MigrateSlot(slot, source);
        var backSentAt = Stopwatch.GetTimestamp();
        await sender.Send(new LotSold(2_000_000, "moved back", 1));
        Assert.True(await Eventually.True(() => arrivedAt.ContainsKey(2_000_000), Timeout), "the message sent after the move back arrives");
        latencies.Add(Stopwatch.GetElapsedTime(backSentAt, arrivedAt[2_000_000]).TotalMilliseconds);

        _output.WriteLine($"delivery latency of the idle endpoint after the moves, ms: {string.Join(", ", latencies.Select(x => x.ToString("0.0")))}");
        Assert.All(latencies, x => Assert.True(x < idlePoll.TotalMilliseconds / 10, $"{x:0} ms: delivered by a wake-up, not by the poll"));
    }

    /// <summary>A key prefix under which <paramref name="key" /> hashes to the first slot of one of the primaries.</summary>
    static async Task<string> PrefixOnFirstSlot(RedisClusterProcess cluster, string key)
    {
        var firsts = (await cluster.GetNodes()).Where(x => x.IsPrimary && x.Slots.Count > 0).Select(x => x.Slots.Min(r => r.First)).ToHashSet();
        while (true)
        {
            var prefix = TestRedis.NewKeyPrefix();
            if (firsts.Contains(ClusterSupport.Slot(prefix, key)))
                return prefix;
        }
    }
}


/// <summary>A private Redis Cluster of three primaries, each with a replica, that fails over within about two seconds.</summary>
public sealed class ReplicatedClusterFixture :
    IAsyncLifetime
{
    RedisClusterProcess? _cluster;

    public RedisClusterProcess Cluster => _cluster ?? throw new InvalidOperationException("The cluster did not start");

    public async Task InitializeAsync()
    {
        if (RedisClusterProcess.IsAvailable)
            _cluster = await RedisClusterProcess.Start(replicas: 1, nodeTimeout: TimeSpan.FromMilliseconds(1000));
    }

    public Task DisposeAsync()
    {
        _cluster?.Dispose();
        return Task.CompletedTask;
    }
}


/// <summary>
/// The primary that serves a queue's slot is killed and its replica takes over: the bus keeps working; acknowledged sends
/// can be lost with the primary (asynchronous replication) unless WaitForReplicas makes each send wait for the replica.
/// </summary>
[Trait("Category", "Cluster")]
public class ClusterFailoverTests :
    IClassFixture<ReplicatedClusterFixture>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    readonly ReplicatedClusterFixture _fixture;
    readonly ITestOutputHelper _output;

    public ClusterFailoverTests(ReplicatedClusterFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    RedisClusterProcess Cluster => _fixture.Cluster;

    [RedisClusterFact]
    public async Task The_bus_keeps_working_when_the_primary_of_its_queue_is_killed_and_its_replica_takes_over()
    {
        var (redis, primary) = await OnReplicatedPrimary("queue:order-audit");

        var received = new ConcurrentDictionary<int, int>();
        var arrivedAt = new ConcurrentDictionary<int, long>();
        var idlePoll = TimeSpan.FromSeconds(20);
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) => cfg.ReceiveEndpoint("order-audit", e => e.Handler<LotSold>(ctx =>
        {
            received.AddOrUpdate(ctx.Message.Lot, 1, (_, count) => count + 1);
            arrivedAt.TryAdd(ctx.Message.Lot, Stopwatch.GetTimestamp());
            return Task.CompletedTask;
        })), h => h.IdlePollInterval = idlePoll);
        var endpoint = await provider.GetRequiredService<ITestHarness>().Bus.GetSendEndpoint(new Uri("queue:order-audit"));

        for (var i = 0; i < 20; i++)
            await endpoint.Send(new LotSold(i, "before", 1));
        Assert.True(await Eventually.True(() => Enumerable.Range(0, 20).All(received.ContainsKey), Timeout), "the messages sent before the kill arrive");

        // Acknowledged by the primary alone, then the primary dies at once: asynchronous replication may lose some.
        const int unreplicated = 500;
        await Task.WhenAll(Enumerable.Range(1000, unreplicated).Select(i => endpoint.Send(new LotSold(i, "acknowledged", 1))));

        var failover = Stopwatch.StartNew();
        primary.Kill();

        var during = Enumerable.Range(100, 20).Select(i => endpoint.Send(new LotSold(i, "during", 1))).ToArray();
        await Task.WhenAll(during).WaitAsync(Timeout);
        _output.WriteLine($"the sends made during the failover completed {failover.Elapsed.TotalSeconds:0.0} s after the kill");

        for (var i = 200; i < 220; i++)
            await endpoint.Send(new LotSold(i, "after", 1));

        Assert.True(await Eventually.True(() => Enumerable.Range(100, 20).Concat(Enumerable.Range(200, 20)).All(received.ContainsKey), Timeout),
            "every message sent during and after the failover arrives");
        _output.WriteLine($"all of them received {failover.Elapsed.TotalSeconds:0.0} s after the kill");

        // What asynchronous replication lost: measured, not asserted (WaitForReplicas is the remedy, tested below).
        await Eventually.True(() => Enumerable.Range(1000, unreplicated).All(received.ContainsKey), TimeSpan.FromSeconds(5));
        _output.WriteLine($"acknowledged sends lost in the failover without WaitForReplicas: "
            + $"{unreplicated - Enumerable.Range(1000, unreplicated).Count(received.ContainsKey)} of {unreplicated}; "
            + $"duplicates: {received.Values.Sum(x => x - 1)}");

        // The idle endpoint is woken on the new primary: its sharded subscription moved with the slot.
        var db = await redis.Database();
        var wake = new StreamKeys(redis.KeyPrefix).Wake(redis.Key("queue:order-audit"));
        var latencies = await ClusterSupport.IdleDeliveryLatencies(db, wake, endpoint, arrivedAt, 5000, Timeout);

        _output.WriteLine($"delivery latency of the idle endpoint after the failover, ms: {string.Join(", ", latencies.Select(x => x.ToString("0.0")))}");
        Assert.All(latencies, x => Assert.True(x < idlePoll.TotalMilliseconds / 10, $"{x:0} ms: delivered by a wake-up, not by the poll"));

        await Cluster.WaitUntilHealthy(Timeout);
    }

    [RedisClusterFact]
    public async Task With_WaitForReplicas_no_acknowledged_send_is_lost_when_the_primary_dies()
    {
        var (redis, primary) = await OnReplicatedPrimary("queue:order-ledger");

        var received = new ConcurrentDictionary<int, int>();
        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) => cfg.ReceiveEndpoint("order-ledger", e => e.Handler<LotSold>(ctx =>
        {
            received.AddOrUpdate(ctx.Message.Lot, 1, (_, count) => count + 1);
            return Task.CompletedTask;
        })), h => h.WaitForReplicas = 1);
        var endpoint = await provider.GetRequiredService<ITestHarness>().Bus.GetSendEndpoint(new Uri("queue:order-ledger"));
        await endpoint.Send(new LotSold(-1, "warm-up", 1));

        // Every send completes only once the replica has its entry; then the primary dies at once.
        const int count = 500;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => endpoint.Send(new LotSold(i, "ledger", 1))));
        _output.WriteLine($"{count} concurrent sends, each waiting for a replica, took {watch.ElapsedMilliseconds} ms");

        // WAIT went to the primary that took the appends, on the connection that carried them: no other primary saw one.
        var waits = await RedisClusterProcess.CommandCount(primary, "wait");
        var otherPrimaries = (await Cluster.GetNodes()).Where(x => x.IsPrimary && x.Port != primary.Port && x.Slots.Count > 0)
            .Select(x => Cluster.Nodes.Single(n => n.Port == x.Port)).ToList();
        var elsewhere = 0L;
        foreach (var other in otherPrimaries)
            elsewhere += await RedisClusterProcess.CommandCount(other, "wait");
        _output.WriteLine($"WAIT calls on the queue's primary: {waits}, on the other primaries: {elsewhere}");
        Assert.True(waits > 0, "the queue's primary got the WAITs");
        Assert.Equal(0, elsewhere);

        primary.Kill();

        Assert.True(await Eventually.True(() => Enumerable.Range(0, count).All(received.ContainsKey), Timeout),
            $"every acknowledged send arrives after the failover ({Enumerable.Range(0, count).Count(received.ContainsKey)} of {count})");
        _output.WriteLine($"none lost; duplicates: {received.Values.Sum(x => x - 1)}");

        await Cluster.WaitUntilHealthy(Timeout);
    }

    /// <summary>A context whose <paramref name="key" /> lives on a primary that still has a replica online, and that primary.</summary>
    async Task<(RedisTestContext, RedisServerProcess)> OnReplicatedPrimary(string key)
    {
        await Cluster.WaitUntilHealthy(Timeout);
        while (true)
        {
            var prefix = TestRedis.NewKeyPrefix();
            var primary = await Cluster.PrimaryOf(ClusterSupport.Slot(prefix, key));
            if ((await Cluster.ReplicasOf(primary)).Any(x => x.IsRunning))
                return (ClusterSupport.Context(Cluster, prefix), primary);
        }
    }
}
