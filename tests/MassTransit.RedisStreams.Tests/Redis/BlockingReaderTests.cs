namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using History;
using Infrastructure;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;
using StreamEntryId = MassTransit.RedisStreams.Redis.StreamEntryId;


/// <summary>
/// An idle endpoint waits in XREADGROUP ... BLOCK on a connection of its own: a message reaches it without a wake-up; the
/// connections are bounded; a killed reader connection recovers without losing or repeating a message; a stop ends a blocked
/// read at once; and idling costs Redis no more commands than waiting for wake-ups did. Each test has a redis-server of its
/// own, so that its client list and command counts are its alone.
/// </summary>
public class BlockingReaderTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    readonly ITestOutputHelper _output;

    public BlockingReaderTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [RedisServerFact]
    public async Task An_idle_endpoint_waits_in_a_blocking_read_and_receives_without_a_wake_up()
    {
        using var server = RedisServerProcess.Start();
        var redis = await RedisTestContext.Create(server.ConnectionString);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true");
        var received = new ConcurrentDictionary<int, long>();

        var bus = CreateBus(redis, received, "blocking");
        await bus.StartAsync();
        try
        {
            Assert.True(await Eventually.True(async () => (await Readers(admin)).Count(x => x.Blocked) == 1, Timeout), "the endpoint waits in a blocked read");
            var endpoint = await bus.GetSendEndpoint(new Uri("queue:blocking"));

            // Flags armed before the reader's connection was up may still be set: the first append clears them.
            await endpoint.Send(new LotSold(0, "first", 1));
            Assert.True(await Eventually.True(() => received.ContainsKey(0), Timeout));
            await admin.GetServers()[0].ExecuteAsync("CONFIG", "RESETSTAT");

            var latencies = new List<double>();
            for (var lot = 1; lot <= 20; lot++)
            {
                Assert.True(await Eventually.True(async () => (await Readers(admin)).Any(x => x.Blocked), Timeout), "blocked again");
                var sentAt = Stopwatch.GetTimestamp();
                await endpoint.Send(new LotSold(lot, "idle", 1));
                Assert.True(await Eventually.True(() => received.ContainsKey(lot), Timeout), $"lot {lot} arrives");
                latencies.Add(Stopwatch.GetElapsedTime(sentAt, received[lot]).TotalMilliseconds);
            }

            latencies.Sort();
            _output.WriteLine($"send to handler of an idle endpoint, ms: p50 {latencies[latencies.Count / 2]:0.00}, max {latencies[^1]:0.00}");

            var stats = await CommandStats(admin);
            Assert.False(stats.ContainsKey("publish"), "no wake-up was published: the blocked read saw each entry itself");
            Assert.Single(await Readers(admin));
        }
        finally
        {
            await bus.StopAsync();
        }

        Assert.Empty(await Readers(admin));
    }

    [RedisServerFact]
    public async Task Endpoints_beyond_MaxReaderConnections_wait_for_wake_ups_and_the_others_block()
    {
        using var server = RedisServerProcess.Start();
        var redis = await RedisTestContext.Create(server.ConnectionString);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true");
        var received = new ConcurrentDictionary<int, long>();
        var idlePoll = TimeSpan.FromSeconds(20);

        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h =>
            {
                h.KeyPrefix = redis.KeyPrefix;
                h.MaxReaderConnections = 2;
                h.IdlePollInterval = idlePoll;
            });
            foreach (var name in new[] { "first", "second", "third" })
            {
                cfg.ReceiveEndpoint(name, e =>
                {
                    e.ConfigureConsumeTopology = false;
                    e.Handler<LotSold>(ctx =>
                    {
                        received.TryAdd(ctx.Message.Lot, Stopwatch.GetTimestamp());
                        return Task.CompletedTask;
                    });
                });
            }
        });

        await bus.StartAsync();
        try
        {
            Assert.True(await Eventually.True(async () => (await Readers(admin)).Count(x => x.Blocked) == 2, Timeout), "two endpoints block");

            // Every endpoint gets its message long before an idle poll: two by their blocked reads, one by a wake-up.
            var lot = 0;
            foreach (var name in new[] { "first", "second", "third" })
            {
                var endpoint = await bus.GetSendEndpoint(new Uri("queue:" + name));
                var sentAt = Stopwatch.GetTimestamp();
                var sent = ++lot;
                await endpoint.Send(new LotSold(sent, name, 1));
                Assert.True(await Eventually.True(() => received.ContainsKey(sent), Timeout));
                var latency = Stopwatch.GetElapsedTime(sentAt, received[sent]);
                _output.WriteLine($"{name}: {latency.TotalMilliseconds:0.00} ms");
                Assert.True(latency < idlePoll / 10, $"{name}: {latency.TotalMilliseconds:0} ms, not an idle poll");
            }

            Assert.Equal(2, (await Readers(admin)).Count);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    /// <param name="kill">How the reader's connection is killed: by its ID, or every normal client (the bus's shared one too).</param>
    [RedisServerTheory]
    [InlineData("id")]
    [InlineData("type-normal")]
    public async Task A_killed_reader_connection_recovers_without_losing_or_repeating_a_message(string kill)
    {
        using var server = RedisServerProcess.Start();
        var redis = await RedisTestContext.Create(server.ConnectionString);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true");
        var received = new ConcurrentDictionary<int, int>();
        var arrived = new ConcurrentDictionary<int, long>();

        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("killed", e => e.Handler<LotSold>(ctx =>
            {
                received.AddOrUpdate(ctx.Message.Lot, 1, (_, count) => count + 1);
                arrived.TryAdd(ctx.Message.Lot, Stopwatch.GetTimestamp());
                return Task.CompletedTask;
            }));
        });

        await bus.StartAsync();
        try
        {
            var endpoint = await bus.GetSendEndpoint(new Uri("queue:killed"));
            var accepted = new ConcurrentBag<int>();
            var lot = 0;
            for (var round = 0; round < 5; round++)
            {
                Assert.True(await Eventually.True(async () => (await Readers(admin)).Any(x => x.Blocked), Timeout), $"round {round}: the reader blocks");
                var reader = (await Readers(admin)).First(x => x.Blocked);

                // Sends on their way while the connection dies: some may be handed to the dead connection.
                var sending = Task.Run(async () =>
                {
                    for (var i = 0; i < 50; i++)
                    {
                        var next = ++lot;
                        await SendRetrying(endpoint, new LotSold(next, "flow", 1));
                        accepted.Add(next);
                    }
                });

                if (kill == "id")
                    await admin.GetServers()[0].ExecuteAsync("CLIENT", "KILL", "ID", reader.Id);
                else
                    await admin.GetServers()[0].ExecuteAsync("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");

                await sending;
                var expected = accepted.ToArray();
                Assert.True(await Eventually.True(() => expected.All(received.ContainsKey), Timeout),
                    $"round {round}: every message arrives ({expected.Count(received.ContainsKey)} of {expected.Length})");
            }

            // Back to blocking reads: a message sent to the idle endpoint arrives at once.
            Assert.True(await Eventually.True(async () => (await Readers(admin)).Any(x => x.Blocked), Timeout), "the reader blocks again");
            var sentAt = Stopwatch.GetTimestamp();
            await endpoint.Send(new LotSold(1_000_000, "after", 1));
            Assert.True(await Eventually.True(() => arrived.ContainsKey(1_000_000), Timeout));
            _output.WriteLine($"{accepted.Count} sent through 5 kills; after them, an idle delivery in "
                + $"{Stopwatch.GetElapsedTime(sentAt, arrived[1_000_000]).TotalMilliseconds:0.00} ms");

            Assert.Empty(received.Where(x => x.Value > 1).Select(x => x.Key));
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [RedisServerFact]
    public async Task A_stop_ends_a_blocked_read_at_once_and_a_start_is_not_slower()
    {
        using var server = RedisServerProcess.Start();
        var redis = await RedisTestContext.Create(server.ConnectionString);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true");
        var received = new ConcurrentDictionary<int, long>();

        // A blocked read lasts up to the poll interval: a stop that waited for it would take 30 s.
        var bus = CreateBus(redis, received, "stopping", TimeSpan.FromSeconds(30));
        for (var run = 0; run < 3; run++)
        {
            var start = Stopwatch.StartNew();
            await bus.StartAsync();
            var started = start.Elapsed;

            Assert.True(await Eventually.True(async () => (await Readers(admin)).Any(x => x.Blocked), Timeout), "the endpoint waits in a blocked read");
            var stop = Stopwatch.StartNew();
            await bus.StopAsync();
            var stopped = stop.Elapsed;

            _output.WriteLine($"run {run}: start {started.TotalMilliseconds:0} ms, stop while blocked {stopped.TotalMilliseconds:0} ms");
            Assert.True(stopped < TimeSpan.FromSeconds(3), $"stopped in {stopped.TotalMilliseconds:0} ms");
            Assert.Empty(await Readers(admin));
        }

        // Nothing was handed out and left behind: a message sent now waits for the next start, and arrives then.
        var sender = Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix));
        await sender.StartAsync();
        await (await sender.GetSendEndpoint(new Uri("queue:stopping"))).Send(new LotSold(7, "while stopped", 1));
        await sender.StopAsync();

        await bus.StartAsync();
        try
        {
            Assert.True(await Eventually.True(() => received.ContainsKey(7), Timeout), "the message sent while stopped arrives at the next start");
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [RedisServerFact]
    public async Task Idle_endpoints_that_block_cost_Redis_at_most_two_commands_a_second_each()
    {
        using var server = RedisServerProcess.Start();
        var redis = await RedisTestContext.Create(server.ConnectionString);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true");
        const int endpoints = 10;

        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            for (var i = 0; i < endpoints; i++)
                cfg.ReceiveEndpoint("idle-" + i, e => e.Handler<LotSold>(_ => Task.CompletedTask));
        });

        await bus.StartAsync();
        try
        {
            Assert.True(await Eventually.True(async () => (await Readers(admin)).Count(x => x.Blocked) == endpoints, Timeout), "every endpoint blocks");

            // A rate, so it is measured over a window of time: the server's own counts, before and after.
            var window = TimeSpan.FromSeconds(10);
            await admin.GetServers()[0].ExecuteAsync("CONFIG", "RESETSTAT");
            var watch = Stopwatch.StartNew();
            await Task.Delay(window);
            var stats = await CommandStats(admin);
            var seconds = watch.Elapsed.TotalSeconds;

            // The bus's own endpoint counts in, as in the benchmark's idle workload; the admin's INFO does not.
            var total = stats.Where(x => x.Key != "info" && x.Key != "config").Sum(x => x.Value);
            var perEndpoint = total / seconds / (endpoints + 1);
            _output.WriteLine($"{perEndpoint:0.00} commands/s per endpoint: "
                + string.Join(", ", stats.OrderByDescending(x => x.Value).Select(x => $"{x.Key} {x.Value / seconds:0.00}/s")));
            Assert.True(perEndpoint <= 2, $"{perEndpoint:0.00} commands/s per endpoint");
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [RedisServerFact]
    public async Task Bursts_that_reach_a_blocked_endpoint_over_several_streams_are_handled_in_entry_id_order()
    {
        using var server = RedisServerProcess.Start();
        var redis = await RedisTestContext.Create(server.ConnectionString);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true");

        // One endpoint, one message at a time, reading its queue and the streams of two event types; entry IDs order the
        // appends of all three (one clock), so they must be handled in ascending ID order, whichever stream each came from.
        var handled = new List<(StreamEntryId Id, int Lot)>();
        var count = 0;
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("blocking-order", e =>
            {
                e.ConcurrentMessageLimit = 1;
                e.Handler<LotSold>(ctx => Record(ctx, ctx.Message.Lot));
                e.Handler<LotWithdrawn>(ctx => Record(ctx, ctx.Message.Lot));
                e.Handler<LotRelisted>(ctx => Record(ctx, ctx.Message.Lot));
            });
        });

        Task Record(ConsumeContext context, int lot)
        {
            Assert.True(context.TryGetPayload<RedisStreamsMessageContext>(out var entry));
            lock (handled)
                handled.Add((StreamEntryId.Parse(entry!.EntryId), lot));
            Interlocked.Increment(ref count);
            return Task.CompletedTask;
        }

        await bus.StartAsync();
        try
        {
            var queue = await bus.GetSendEndpoint(new Uri("queue:blocking-order"));
            var lot = 0;
            for (var burst = 0; burst < 40; burst++)
            {
                // Each burst reaches an endpoint that waits in a blocked read: four writers at once, over the three streams.
                Assert.True(await Eventually.True(async () => (await Readers(admin)).Any(x => x.Blocked), Timeout), $"blocked before burst {burst}");
                var writes = new List<Task>();
                for (var writer = 0; writer < 4; writer++)
                {
                    var first = lot;
                    var size = 1 + (burst + writer) % 5;
                    lot += size;
                    writes.Add(Task.Run(async () =>
                    {
                        for (var n = first; n < first + size; n++)
                        {
                            await ((n % 3) switch
                            {
                                0 => queue.Send(new LotSold(n, "order", 1)),
                                1 => bus.Publish(new LotWithdrawn(n, "order")),
                                _ => bus.Publish(new LotRelisted(n)),
                            });
                        }
                    }));
                }

                await Task.WhenAll(writes);
                var expected = lot;
                Assert.True(await Eventually.True(() => Volatile.Read(ref count) >= expected, Timeout), $"burst {burst} handled");
            }

            lock (handled)
            {
                Assert.Equal(lot, handled.Count);
                Assert.Equal(lot, handled.Select(x => x.Lot).Distinct().Count());
                for (var i = 1; i < handled.Count; i++)
                    Assert.True(handled[i - 1].Id.CompareTo(handled[i].Id) < 0, $"entry {handled[i].Id} (lot {handled[i].Lot}) was handled after {handled[i - 1].Id} (lot {handled[i - 1].Lot})");
            }
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [RedisServerFact]
    public async Task A_burst_over_two_streams_is_handled_at_once_and_not_after_the_block_time()
    {
        using var server = RedisServerProcess.Start();
        var redis = await RedisTestContext.Create(server.ConnectionString);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true");

        // A round that reads the queue and the event stream one after the other holds the newest entries back until the next
        // round finds the queue still empty. Were that next round a blocked read, they would wait for the block time: 60 s here.
        var handled = 0;
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h =>
            {
                h.KeyPrefix = redis.KeyPrefix;
                h.IdlePollInterval = TimeSpan.FromSeconds(60);
            });
            cfg.ReceiveEndpoint("blocking-burst", e =>
            {
                e.Handler<LotSold>(_ =>
                {
                    Interlocked.Increment(ref handled);
                    return Task.CompletedTask;
                });
                e.Handler<LotWithdrawn>(_ =>
                {
                    Interlocked.Increment(ref handled);
                    return Task.CompletedTask;
                });
            });
        });

        await bus.StartAsync();
        try
        {
            var queue = await bus.GetSendEndpoint(new Uri("queue:blocking-burst"));
            var total = 0;
            for (var burst = 0; burst < 5; burst++)
            {
                Assert.True(await Eventually.True(async () => (await Readers(admin)).Any(x => x.Blocked), Timeout), $"blocked before burst {burst}");
                var writes = Enumerable.Range(0, 400).Select(i => i % 4 == 0 ? queue.Send(new LotSold(i, "burst", 1)) : bus.Publish(new LotWithdrawn(i, "burst")));
                await Task.WhenAll(writes);
                total += 400;

                var expected = total;
                Assert.True(await Eventually.True(() => Volatile.Read(ref handled) >= expected, TimeSpan.FromSeconds(20)),
                    $"burst {burst}: {Volatile.Read(ref handled) - (expected - 400)} of 400 handled within 20 s");
            }
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    static IBusControl CreateBus(RedisTestContext redis, ConcurrentDictionary<int, long> received, string queue, TimeSpan? idlePoll = null)
    {
        return Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h =>
            {
                h.KeyPrefix = redis.KeyPrefix;
                if (idlePoll != null)
                    h.IdlePollInterval = idlePoll.Value;
            });
            cfg.ReceiveEndpoint(queue, e => e.Handler<LotSold>(ctx =>
            {
                received.TryAdd(ctx.Message.Lot, Stopwatch.GetTimestamp());
                return Task.CompletedTask;
            }));
        });
    }

    /// <summary>Sends, retrying while the bus's own connection is being killed and restored.</summary>
    static async Task SendRetrying(ISendEndpoint endpoint, LotSold message)
    {
        for (var attempt = 0;; attempt++)
        {
            try
            {
                await endpoint.Send(message);
                return;
            }
            catch (Exception) when (attempt < 20)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>The blocking readers' connections, from CLIENT LIST: their IDs, and whether each waits in a blocked command.</summary>
    static Task<List<(long Id, bool Blocked)>> Readers(ConnectionMultiplexer admin) => Readers(admin.GetServers()[0]);

    /// <summary>The blocking readers' connections to one server.</summary>
    internal static async Task<List<(long Id, bool Blocked)>> Readers(IServer server)
    {
        // Over RESP3 the answer is a verbatim string, which StackExchange.Redis hands over with its "txt:" format prefix.
        var list = (string)(await server.ExecuteAsync("CLIENT", "LIST"))!;
        if (list.StartsWith("txt:", StringComparison.Ordinal))
            list = list[4..];
        var readers = new List<(long, bool)>();
        foreach (var line in list.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ').Select(x => x.Split('=', 2)).Where(x => x.Length == 2).ToDictionary(x => x[0], x => x[1]);
            if (fields.TryGetValue("name", out var name) && name.EndsWith(":stream-reader", StringComparison.Ordinal))
                readers.Add((long.Parse(fields["id"]), fields["flags"].Contains('b') && fields["cmd"] == "xreadgroup"));
        }

        return readers;
    }

    /// <summary>INFO commandstats: calls per command since the last CONFIG RESETSTAT.</summary>
    static async Task<Dictionary<string, long>> CommandStats(ConnectionMultiplexer admin)
    {
        var info = (string)(await admin.GetServers()[0].ExecuteAsync("INFO", "commandstats"))!;
        var stats = new Dictionary<string, long>();
        foreach (var line in info.Split('\n'))
        {
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal))
                continue;

            var name = line["cmdstat_".Length..line.IndexOf(':')];
            var calls = line.Split(',')[0].Split('=')[1];
            stats[name] = long.Parse(calls);
        }

        return stats;
    }
}


[EntityName("LotRelisted")]
public record LotRelisted(int Lot);
