namespace MassTransit.RedisStreams.TestHost;

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using OpenTelemetry;
using OpenTelemetry.Trace;
using StackExchange.Redis;


/// <summary>One unit of work; its sequence number identifies it in the proof counters.</summary>
public record Work(int Sequence);


/// <summary>
/// A consumer process for fault injection: it consumes <see cref="Work" /> from <c>queue:{queue}</c> and counts every handling
/// in Redis (<c>{prefix}:proof:processed</c>, a hash of sequence number to times handled; <c>{prefix}:proof:deliveries</c>,
/// the delivery count, redelivered flag and consumer name of the last handling; <c>{prefix}:proof:entries</c>, entry ID →
/// the Unix ms and consumer name of its last handling; <c>{prefix}:proof:handlings</c>, a list of every handling as
/// <c>entry-id unix-ms consumer</c>), so a test can count what was processed, duplicated and lost after
/// killing it, and when. SIGTERM stops it gracefully; kill -9 does not.
/// </summary>
/// <remarks>
/// Arguments: --redis, --prefix, --queue (work), --prefetch (16), --concurrency, --handler-ms (0), --claim-timeout-ms,
/// --max-deliveries, --consumer-name, --temporary-expiry-ms, --dead-consumer-ms, --crash-on (a sequence number whose handling
/// kills the process), --archive (see <see cref="ArchivePass" />), --traces 1 (prints every finished span: <c>span {trace} {span} {parent} {kind} links={trace:span,...} {name}</c>).
/// </remarks>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var options = Parse(args);
        if (options.ContainsKey("archive"))
            return await ArchivePass.Run(options);

        var redis = options["redis"];
        var prefix = options["prefix"];
        var queue = options.GetValueOrDefault("queue", "work");
        var handlerDelay = TimeSpan.FromMilliseconds(Int(options, "handler-ms", 0));
        var crashOn = options.TryGetValue("crash-on", out var crash) ? int.Parse(crash, CultureInfo.InvariantCulture) : -1;

        // --traces 1: MassTransit's traces through OpenTelemetry, each finished span printed as a line for the test to read.
        using var tracing = options.GetValueOrDefault("traces") == "1"
            ? Sdk.CreateTracerProviderBuilder().AddRedisStreamsInstrumentation().AddProcessor(new SpanPrinter()).Build()
            : null;

        using var proof = await ConnectionMultiplexer.ConnectAsync(redis + ",abortConnect=false");
        var processed = (RedisKey)(prefix + ":proof:processed");
        var deliveries = (RedisKey)(prefix + ":proof:deliveries");
        var entries = (RedisKey)(prefix + ":proof:entries");
        var handlings = (RedisKey)(prefix + ":proof:handlings");

        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis, h =>
            {
                h.KeyPrefix = prefix;
                if (options.TryGetValue("claim-timeout-ms", out var claim))
                    h.ClaimTimeout = TimeSpan.FromMilliseconds(int.Parse(claim, CultureInfo.InvariantCulture));
                if (options.TryGetValue("max-deliveries", out var max))
                    h.MaxDeliveryCount = int.Parse(max, CultureInfo.InvariantCulture);
                if (options.TryGetValue("consumer-name", out var name))
                    h.ConsumerName = name;
                if (options.TryGetValue("temporary-expiry-ms", out var expiry))
                    h.TemporaryStreamExpiry = TimeSpan.FromMilliseconds(int.Parse(expiry, CultureInfo.InvariantCulture));
                if (options.TryGetValue("dead-consumer-ms", out var dead))
                    h.DeadConsumerTimeout = TimeSpan.FromMilliseconds(int.Parse(dead, CultureInfo.InvariantCulture));
            });

            cfg.ReceiveEndpoint(queue, e =>
            {
                e.PrefetchCount = Int(options, "prefetch", 16);
                if (options.TryGetValue("concurrency", out var concurrency))
                    e.ConcurrentMessageLimit = int.Parse(concurrency, CultureInfo.InvariantCulture);

                // The proof counter lives in the same Redis: a write cut off by the outage under test is retried, as an
                // application would retry its own side effects, rather than sending the message to _error.
                e.UseMessageRetry(r => r.Interval(100, TimeSpan.FromMilliseconds(100)));

                e.Handler<Work>(async context =>
                {
                    if (context.Message.Sequence == crashOn)
                        Environment.FailFast($"crash-on {crashOn}");

                    if (handlerDelay > TimeSpan.Zero)
                        await Task.Delay(handlerDelay);

                    var database = proof.GetDatabase();
                    await database.HashIncrementAsync(processed, context.Message.Sequence);

                    if (context.TryGetPayload<RedisStreamsMessageContext>(out var redisContext))
                    {
                        await database.HashSetAsync(deliveries, context.Message.Sequence,
                            $"{redisContext.DeliveryCount}:{context.ReceiveContext.Redelivered}:{redisContext.ConsumerName}");
                        var handledAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                        await database.HashSetAsync(entries, redisContext.EntryId, $"{handledAt} {redisContext.ConsumerName}");
                        await database.ListRightPushAsync(handlings, $"{redisContext.EntryId} {handledAt} {redisContext.ConsumerName}");
                    }
                });
            });
        });

        using var stopping = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stopping.Cancel();
        });

        await bus.StartAsync();

        // Tells the test this instance is consuming, and where its response stream is.
        await proof.GetDatabase().HashSetAsync(prefix + ":proof:hosts", Environment.ProcessId, bus.Address.ToString());
        Console.WriteLine($"ready {Environment.ProcessId} {bus.Address}");

        try
        {
            await Task.Delay(Timeout.Infinite, stopping.Token);
        }
        catch (OperationCanceledException)
        {
        }

        Console.WriteLine("stopping");
        await bus.StopAsync();
        Console.WriteLine("stopped");

        return 0;
    }

    static Dictionary<string, string> Parse(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"Expected --name value pairs, got '{args[i]}'");

            options[args[i][2..]] = args[i + 1];
        }

        if (!options.ContainsKey("redis") || !options.ContainsKey("prefix"))
            throw new ArgumentException("--redis and --prefix are required");

        return options;
    }

    static int Int(Dictionary<string, string> options, string name, int defaultValue)
    {
        return options.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : defaultValue;
    }
}


/// <summary>Prints each finished span as one line on standard output.</summary>
sealed class SpanPrinter :
    BaseProcessor<System.Diagnostics.Activity>
{
    public override void OnEnd(System.Diagnostics.Activity data)
    {
        var links = string.Join(",", data.Links.Select(x => $"{x.Context.TraceId}:{x.Context.SpanId}"));
        var parent = data.ParentSpanId == default ? "-" : data.ParentSpanId.ToString();
        Console.WriteLine($"span {data.TraceId} {data.SpanId} {parent} {data.Kind} links={links} {data.DisplayName}");
    }
}
