namespace MassTransit.RedisStreams.Benchmarks;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MassTransit.Serialization;
using StackExchange.Redis;


/// <summary>
/// Measures the transport against a real redis-server: wake-up latency of an idle endpoint, what idle endpoints cost Redis,
/// send/consume throughput, memory per entry, reading several streams in order, and how late scheduled messages arrive.
/// Usage: <c>dotnet run -c Release --project tests/MassTransit.RedisStreams.Benchmarks -- [latency|idle|throughput|memory|mixed|scheduled|all]</c>.
/// Uses REDIS_CONNECTION when set, else starts a private redis-server from PATH.
/// </summary>
public static class LegacyBenchmarks
{
    public static readonly string[] Scenarios = ["latency", "idle", "throughput", "memory", "mixed", "scheduled", "all"];

    public static async Task<int> Run(string scenario)
    {

        PrivateRedis? privateRedis = null;
        var connection = Environment.GetEnvironmentVariable("REDIS_CONNECTION");
        if (string.IsNullOrWhiteSpace(connection))
        {
            privateRedis = PrivateRedis.Start(appendOnly: false);
            connection = privateRedis.ConnectionString;
        }

        try
        {
            using var multiplexer = await ConnectionMultiplexer.ConnectAsync(connection + ",allowAdmin=true");
            var info = (await multiplexer.GetServers()[0].InfoAsync("server")).SelectMany(x => x).First(x => x.Key == "redis_version").Value;
            Console.WriteLine($"redis {info} at {connection}; {Environment.ProcessorCount} cores; .NET {Environment.Version}");

            if (scenario is "latency" or "all")
            {
                await Latency(connection, wakeUp: true);
                await Latency(connection, wakeUp: false);
            }

            if (scenario is "idle" or "all")
                await IdleCost(connection, multiplexer);

            if (scenario is "throughput" or "all")
                await Throughput(connection);

            if (scenario is "memory" or "all")
                await Memory(connection, multiplexer);

            if (scenario is "scheduled" or "all")
            {
                // One instance moves everything; then three compete for the same due messages.
                await Scheduled(connection, multiplexer, instances: 1);
                await Scheduled(connection, multiplexer, instances: 3);
            }

            if (scenario is "mixed" or "all")
            {
                // What reading several streams in append order costs: one endpoint reads one stream, or three (two published
                // types and its queue), at default prefetch and with a concurrency of 1.
                foreach (var streams in new[] { 1, 3 })
                foreach (var concurrency in new int?[] { null, 1 })
                    await Mixed(connection, streams, concurrency);
            }

            return 0;
        }
        finally
        {
            privateRedis?.Dispose();
        }
    }

    /// <summary>
    /// One message at a time to an idle endpoint, so every message goes through the idle path: with the wake-up (sent by
    /// this transport) or without it (an entry added by another writer, found by the idle poll at 100 ms).
    /// </summary>
    static async Task Latency(string connection, bool wakeUp)
    {
        const int warmup = 50;
        const int samples = 500;
        var prefix = "bench" + Guid.NewGuid().ToString("N")[..6];
        var latencies = new List<double>(samples);
        TaskCompletionSource<double>? received = null;

        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(connection, h =>
            {
                h.KeyPrefix = prefix;
                h.IdlePollInterval = wakeUp ? TimeSpan.FromSeconds(2) : TimeSpan.FromMilliseconds(100);
            });
            cfg.ReceiveEndpoint("latency", e =>
            {
                e.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType, isDefault: true);
                e.Handler<Ping>(context =>
                {
                    received?.TrySetResult(Stopwatch.GetElapsedTime(context.Message.Sent).TotalMilliseconds);
                    return Task.CompletedTask;
                });
            });
        });

        await bus.StartAsync();
        using var raw = await ConnectionMultiplexer.ConnectAsync(connection);
        var db = raw.GetDatabase();
        var sendEndpoint = await bus.GetSendEndpoint(new Uri("queue:latency"));

        try
        {
            for (var i = 0; i < warmup + samples; i++)
            {
                // Let the endpoint go idle (arm its wake flag and wait) before each message.
                await Task.Delay(20);

                received = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
                var ping = new Ping(Stopwatch.GetTimestamp());

                if (wakeUp)
                    await sendEndpoint.Send(ping);
                else
                    await db.StreamAddAsync(prefix + ":queue:latency", "body", $"{{\"sent\":{ping.Sent}}}");

                var latency = await received.Task.WaitAsync(TimeSpan.FromSeconds(10));
                if (i >= warmup)
                    latencies.Add(latency);
            }
        }
        finally
        {
            await bus.StopAsync();
        }

        latencies.Sort();
        Console.WriteLine(
            $"latency, idle endpoint, {(wakeUp ? "sent by the transport (wake-up)" : "added by another writer (poll 100 ms)")}, n={samples}: "
            + $"p50 {Percentile(latencies, 0.50):F2} ms, p90 {Percentile(latencies, 0.90):F2} ms, p99 {Percentile(latencies, 0.99):F2} ms, "
            + $"max {latencies[^1]:F2} ms");
    }

    /// <summary>Commands per second that idle endpoints send to Redis, counted by the server (INFO commandstats).</summary>
    static async Task IdleCost(string connection, ConnectionMultiplexer multiplexer)
    {
        const int endpoints = 10;
        // Long enough to take in the claim passes (every 15 s) and the housekeeping (every 30 s).
        var window = TimeSpan.FromSeconds(60);
        var prefix = "bench" + Guid.NewGuid().ToString("N")[..6];

        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(connection, h => h.KeyPrefix = prefix);
            for (var i = 0; i < endpoints; i++)
                cfg.ReceiveEndpoint("idle-" + i, e => e.Handler<Ping>(_ => Task.CompletedTask));
        });

        await bus.StartAsync();
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3));

            var server = multiplexer.GetServers()[0];
            await server.ExecuteAsync("CONFIG", "RESETSTAT");
            await Task.Delay(window);

            var stats = (await server.InfoAsync("commandstats")).SelectMany(x => x)
                .Select(x => (Command: x.Key.Replace("cmdstat_", "", StringComparison.Ordinal),
                    Calls: long.Parse(x.Value.Split(',')[0].Split('=')[1], CultureInfo.InvariantCulture)))
                .Where(x => !x.Command.StartsWith("config", StringComparison.Ordinal) && x.Command != "info")
                .ToList();

            var total = stats.Sum(x => x.Calls);
            Console.WriteLine($"idle cost, {endpoints} endpoints (each reads 2 streams) + the bus endpoint, {window.TotalSeconds:F0} s: "
                + $"{total / window.TotalSeconds:F1} commands/s in all, {total / window.TotalSeconds / endpoints:F2} per endpoint; "
                + string.Join(", ", stats.OrderByDescending(x => x.Calls).Select(x => $"{x.Command} {x.Calls / window.TotalSeconds:F2}/s")));
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    /// <summary>Publishes with many sends in flight, and measures how fast one endpoint consumes them.</summary>
    static async Task Throughput(string connection)
    {
        const int messages = 50_000;
        const int inFlight = 256;
        var prefix = "bench" + Guid.NewGuid().ToString("N")[..6];
        var consumed = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(connection, h => h.KeyPrefix = prefix);
            cfg.ReceiveEndpoint("throughput", e =>
            {
                e.PrefetchCount = 100;
                e.Handler<Ping>(_ =>
                {
                    if (Interlocked.Increment(ref consumed) == messages)
                        done.TrySetResult();
                    return Task.CompletedTask;
                });
            });
        });

        await bus.StartAsync();
        try
        {
            var stopwatch = Stopwatch.StartNew();
            using var gate = new SemaphoreSlim(inFlight);
            var sends = new List<Task>(messages);
            for (var i = 0; i < messages; i++)
            {
                await gate.WaitAsync();
                sends.Add(Publish(bus, gate));
            }

            await Task.WhenAll(sends);
            var publishElapsed = stopwatch.Elapsed;

            await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
            var consumeElapsed = stopwatch.Elapsed;

            Console.WriteLine($"throughput, {messages} messages, {inFlight} publishes in flight: publish {messages / publishElapsed.TotalSeconds:F0} msg/s; "
                + $"all consumed after {consumeElapsed.TotalSeconds:F2} s = {messages / consumeElapsed.TotalSeconds:F0} msg/s end to end");
        }
        finally
        {
            await bus.StopAsync();
        }

        static async Task Publish(IBus bus, SemaphoreSlim gate)
        {
            try
            {
                await bus.Publish(new Ping(Stopwatch.GetTimestamp()));
            }
            finally
            {
                gate.Release();
            }
        }
    }

    /// <summary>
    /// Schedules 1,000 messages a second for 15 seconds, each due 2 seconds after it is sent, to an endpoint that
    /// <paramref name="instances" /> bus instances consume (each runs a delayed message pump), and measures how late each
    /// arrives after its due time; also that none arrives twice, and what holding and moving them costs Redis.
    /// </summary>
    static async Task Scheduled(string connection, ConnectionMultiplexer multiplexer, int instances)
    {
        const int perSecond = 1_000;
        const int seconds = 15;
        const int messages = perSecond * seconds;
        var delay = TimeSpan.FromSeconds(2);
        var prefix = "bench" + Guid.NewGuid().ToString("N")[..6];
        var lateness = new double[messages];
        var seen = new int[messages];
        var received = 0;
        var duplicates = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var buses = Enumerable.Range(0, instances).Select(i => Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(connection, h =>
            {
                h.KeyPrefix = prefix;
                h.ConsumerName = "instance-" + i;
            });
            cfg.ReceiveEndpoint("scheduled", e => e.Handler<Due>(context =>
            {
                var late = (DateTime.UtcNow - new DateTime(context.Message.DueTicks, DateTimeKind.Utc)).TotalMilliseconds;
                if (Interlocked.Exchange(ref seen[context.Message.Index], 1) == 1)
                    Interlocked.Increment(ref duplicates);
                else
                {
                    lateness[context.Message.Index] = late;
                    if (Interlocked.Increment(ref received) == messages)
                        done.TrySetResult();
                }

                return Task.CompletedTask;
            }));
        })).ToArray();

        await Task.WhenAll(buses.Select(x => x.StartAsync()));
        try
        {
            var server = multiplexer.GetServers()[0];
            await server.ExecuteAsync("CONFIG", "RESETSTAT");

            var endpoint = await buses[0].GetSendEndpoint(new Uri("queue:scheduled"));
            var stopwatch = Stopwatch.StartNew();
            var sends = new List<Task>(messages);
            const int tick = 10;
            for (var i = 0; i < messages; i++)
            {
                // 10 messages every 10 ms.
                var at = TimeSpan.FromMilliseconds(i / (perSecond / 1000 * tick) * tick);
                if (at > stopwatch.Elapsed)
                    await Task.Delay(at - stopwatch.Elapsed);

                var due = DateTime.UtcNow + delay;
                var index = i;
                sends.Add(endpoint.Send(new Due(index, due.Ticks), x => x.Delay = due - DateTime.UtcNow));
            }

            await Task.WhenAll(sends);
            var sendRate = messages / stopwatch.Elapsed.TotalSeconds;

            await done.Task.WaitAsync(TimeSpan.FromMinutes(2));
            var elapsed = stopwatch.Elapsed;

            var stats = (await server.InfoAsync("commandstats")).SelectMany(x => x)
                .Select(x => (Command: x.Key.Replace("cmdstat_", "", StringComparison.Ordinal),
                    Calls: long.Parse(x.Value.Split(',')[0].Split('=')[1], CultureInfo.InvariantCulture),
                    Micros: long.Parse(x.Value.Split(',')[1].Split('=')[1], CultureInfo.InvariantCulture)))
                .Where(x => !x.Command.StartsWith("config", StringComparison.Ordinal) && x.Command != "info")
                .ToList();

            var sorted = lateness.OrderBy(x => x).ToList();
            Console.WriteLine($"scheduled, {messages} messages at {sendRate:F0}/s, each due {delay.TotalSeconds:F0} s later, {instances} instance(s) "
                + $"competing: lateness p50 {Percentile(sorted, 0.50):F1} ms, p99 {Percentile(sorted, 0.99):F1} ms, max {sorted[^1]:F1} ms, "
                + $"min {sorted[0]:F1} ms; {duplicates} delivered twice; Redis {stats.Sum(x => x.Calls) / (double)messages:F2} commands and "
                + $"{stats.Sum(x => x.Micros) / (double)messages:F1} µs CPU per message ({elapsed.TotalSeconds:F1} s): "
                + string.Join(", ", stats.OrderByDescending(x => x.Micros).Take(8).Select(x => $"{x.Command} {x.Calls / (double)messages:F2}×/{x.Micros / (double)messages:F1} µs")));
        }
        finally
        {
            await Task.WhenAll(buses.Select(x => x.StopAsync()));
        }
    }

    /// <summary>
    /// Publishes (and for three streams, sends) 20,000 messages with 64 in flight to one endpoint at its default prefetch, and
    /// measures how fast it consumes them end to end.
    /// </summary>
    static async Task Mixed(string connection, int streams, int? concurrency)
    {
        const int messages = 20_000;
        const int inFlight = 64;
        var prefix = "bench" + Guid.NewGuid().ToString("N")[..6];
        var consumed = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task Count()
        {
            if (Interlocked.Increment(ref consumed) == messages)
                done.TrySetResult();
            return Task.CompletedTask;
        }

        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(connection, h => h.KeyPrefix = prefix);
            cfg.ReceiveEndpoint("mixed", e =>
            {
                if (concurrency.HasValue)
                    e.ConcurrentMessageLimit = concurrency;
                e.Handler<Ping>(_ => Count());
                if (streams > 1)
                {
                    e.Handler<Pong>(_ => Count());
                    e.Handler<Sent>(_ => Count());
                }
            });
        });

        await bus.StartAsync();
        try
        {
            var queue = await bus.GetSendEndpoint(new Uri("queue:mixed"));
            var stopwatch = Stopwatch.StartNew();
            using var gate = new SemaphoreSlim(inFlight);
            var sends = new List<Task>(messages);
            for (var i = 0; i < messages; i++)
            {
                await gate.WaitAsync();
                sends.Add(Send(i));
            }

            await Task.WhenAll(sends);
            var sent = stopwatch.Elapsed;
            await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
            var elapsed = stopwatch.Elapsed;

            Console.WriteLine($"mixed, {messages} messages over {streams} stream(s), {inFlight} in flight, default prefetch, concurrency "
                + $"{(concurrency?.ToString(CultureInfo.InvariantCulture) ?? "default")}: sent at {messages / sent.TotalSeconds:F0} msg/s, "
                + $"{messages / elapsed.TotalSeconds:F0} msg/s end to end");

            async Task Send(int i)
            {
                try
                {
                    switch (streams == 1 ? 0 : i % 3)
                    {
                        case 0:
                            await bus.Publish(new Ping(i));
                            break;
                        case 1:
                            await bus.Publish(new Pong(i));
                            break;
                        default:
                            await queue.Send(new Sent(i));
                            break;
                    }
                }
                finally
                {
                    gate.Release();
                }
            }
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    /// <summary>
    /// Redis memory per stored entry of a published message whose JSON is about 100 bytes, 256 bytes and 4 KB: 1,000 of each
    /// published to a stream no endpoint reads, measured with MEMORY USAGE.
    /// </summary>
    static async Task Memory(string connection, ConnectionMultiplexer multiplexer)
    {
        const int count = 1000;
        var prefix = "bench" + Guid.NewGuid().ToString("N")[..6];
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(connection, h => h.KeyPrefix = prefix));
        await bus.StartAsync();
        try
        {
            var db = multiplexer.GetDatabase();
            foreach (var size in new[] { 100, 256, 4096 })
            {
                // {"text":"..."} is 11 bytes around the text.
                var message = new Payload(size, new string('x', size - 11 - (size >= 1000 ? 4 : size >= 100 ? 3 : 2) - 9));
                for (var i = 0; i < count; i++)
                    await bus.Publish(message);

                var key = $"{prefix}:events:MassTransit.RedisStreams.Benchmarks:Payload";
                var bytes = (long)await db.ExecuteAsync("MEMORY", "USAGE", key, "SAMPLES", "0");
                var entry = (await db.StreamRangeAsync(key, "-", "+", 1))[0];
                var fields = entry.Values.Sum(x => x.Name.Length() + x.Value.Length());
                Console.WriteLine($"memory, {count} published {System.Text.Json.JsonSerializer.Serialize(message, System.Text.Json.JsonSerializerOptions.Web).Length}-byte "
                    + $"messages: {bytes / count} bytes of Redis memory per entry ({fields} bytes of field names and values)");
                await db.KeyDeleteAsync(key);
            }
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    static double Percentile(List<double> sorted, double percentile)
    {
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile * sorted.Count) - 1)];
    }
}


public record Ping(long Sent);


public record Due(int Index, long DueTicks);


public record Pong(long Sent);


public record Sent(long Index);


public record Payload(int Size, string Text);
