namespace MassTransit.RedisStreams.Tests.Diagnostics;

using System;
using System.Linq;
using System.Threading.Tasks;
using Contract;
using Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// The transport's meter, read as an application reads it: OpenTelemetry with <c>AddRedisStreamsInstrumentation()</c> and its
/// in-memory exporter, against a real Redis. Every endpoint here has a name of its own, since the meter is the process's.
/// </summary>
public class MetricsTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public record Ping(int Number);

    public record Boom(int Number);

    [Fact]
    public async Task Moves_to_error_expired_messages_refused_duplicates_scheduled_messages_and_Redis_calls_are_counted()
    {
        using var metrics = new MetricsCollector();
        var redis = await RedisTestContext.Create();
        var queue = "metrics-" + Guid.NewGuid().ToString("N")[..8];
        var queueKey = redis.Key("queue:" + queue).ToString();
        var handled = new Recorder<int>();

        var sender = Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix));
        await sender.StartAsync();
        try
        {
            var endpoint = await sender.GetSendEndpoint(new Uri("queue:" + queue));

            // Expires before the endpoint starts reading.
            var timeToLive = TimeSpan.FromMilliseconds(100);
            await endpoint.Send(new Ping(1), x => x.TimeToLive = timeToLive);
            var sent = DateTime.UtcNow;

            // The same message twice: the second is refused by the duplicate detection.
            var messageId = NewId.NextGuid();
            await endpoint.Send(new Ping(2), x => x.MessageId = messageId);
            await endpoint.Send(new Ping(2), x => x.MessageId = messageId);

            await endpoint.Send(new Ping(3), x => x.Delay = TimeSpan.FromMilliseconds(200));
            await endpoint.Send(new Boom(4));

            var left = sent + timeToLive + TimeSpan.FromMilliseconds(50) - DateTime.UtcNow;
            if (left > TimeSpan.Zero)
                await Task.Delay(left);

            var consumer = Bus.Factory.CreateUsingRedisStreams(cfg =>
            {
                cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
                cfg.ReceiveEndpoint(queue, e =>
                {
                    e.Handler<Ping>(ctx =>
                    {
                        handled.Add(ctx.Message.Number);
                        return Task.CompletedTask;
                    });
                    e.Handler<Boom>(_ => throw new InvalidOperationException("boom"));
                });
            });

            await consumer.StartAsync();
            try
            {
                var db = await redis.Database();
                Assert.True(await Eventually.True(async () => handled.Items.Count >= 2 && await db.StreamLengthAsync(queueKey + "_error") == 1, Timeout),
                    "the delayed and the duplicated message are handled, the faulting one moved to _error");

                Assert.True(await Eventually.True(() => metrics.Sum("messaging.redis_streams.moved", ("messaging.consumer.group.name", queue),
                    ("messaging.redis_streams.target", "error"), ("messaging.redis_streams.reason", "fault")) == 1, Timeout), "one move to _error, for a fault");
                // Counted as each entry is dealt with, by workers that run at once: waited for, each.
                async Task Counted(string description, double expected, string name, params (string, object?)[] tags) =>
                    Assert.True(await Eventually.True(() => metrics.Sum(name, tags) == expected, Timeout),
                        $"{description}: {name} is {metrics.Sum(name, tags)}, not {expected}; handled {string.Join(",", handled.Items)}");

                await Counted("the expired message", 1, "messaging.redis_streams.expired", ("messaging.consumer.group.name", queue));
                await Counted("the second send of one message", 1, "messaging.redis_streams.duplicates_refused", ("messaging.destination.name", queueKey));
                await Counted("the delayed message", 1, "messaging.redis_streams.scheduled", ("messaging.destination.name", queueKey));
                await Counted("the delayed message once due", 1, "messaging.redis_streams.scheduled.delivered", ("messaging.destination.name", queueKey));
                await Counted("the lateness of the delayed message", 1, "messaging.redis_streams.scheduled.lateness", ("messaging.destination.name", queueKey));
                Assert.True(metrics.Sum("messaging.redis_streams.redis.calls", ("messaging.system", "redis_streams")) > 0, "Redis calls are counted");

            }
            finally
            {
                await consumer.StopAsync();
            }
        }
        finally
        {
            await sender.StopAsync();
        }
    }

    [Fact]
    public async Task Lag_pending_and_the_oldest_pending_entry_are_sampled_and_past_a_threshold_the_endpoint_is_degraded()
    {
        using var metrics = new MetricsCollector();
        var redis = await RedisTestContext.Create();
        var queue = "lagging-" + Guid.NewGuid().ToString("N")[..8];
        var queueKey = redis.Key("queue:" + queue).ToString();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handled = new Recorder<int>();

        await using var provider = await redis.StartHarness(_ => { }, (_, cfg) =>
        {
            cfg.ReceiveEndpoint(queue, e =>
            {
                e.PrefetchCount = 2;
                e.ConcurrentMessageLimit = 1;
                e.DegradedLagThreshold = 5;
                e.Handler<Ping>(async ctx =>
                {
                    await gate.Task;
                    handled.Add(ctx.Message.Number);
                });
            });
        }, h => h.MetricsSampleInterval = TimeSpan.FromSeconds(1));

        var health = provider.GetRequiredService<HealthCheckService>();

        async Task<HealthReportEntry> Check() =>
            (await health.CheckHealthAsync(x => x.Name == RedisStreamsInstrumentation.HealthCheckName)).Entries[RedisStreamsInstrumentation.HealthCheckName];

        var bus = provider.GetRequiredService<IBus>();
        var endpoint = await bus.GetSendEndpoint(new Uri("queue:" + queue));
        for (var i = 0; i < 20; i++)
            await endpoint.Send(new Ping(i));

        Assert.True(await Eventually.True(async () => (await Check()).Status == HealthStatus.Degraded, Timeout), "degraded while the lag is over 5");
        var degraded = await Check();
        Assert.Contains(queue, degraded.Description);
        Assert.Contains("lag", degraded.Description);

        var group = ("messaging.consumer.group.name", (object?)queue);
        var destination = ("messaging.destination.name", (object?)queueKey);
        Assert.True(metrics.Sum("messaging.redis_streams.consumer.lag", group, destination) > 5, "the lag gauge");
        Assert.True(metrics.Sum("messaging.redis_streams.consumer.pending", group, destination) >= 1, "the pending gauge");
        Assert.True(metrics.Sum("messaging.redis_streams.consumer.oldest_pending.age", group, destination) > 0, "the oldest pending age gauge");
        Assert.True(metrics.Sum("messaging.redis_streams.consumer.held", group) >= 1, "the held gauge");

        gate.SetResult();

        Assert.True(await Eventually.True(() => handled.Items.Count == 20, Timeout), "every message handled once let through");
        Assert.True(await Eventually.True(async () => (await Check()).Status == HealthStatus.Healthy, Timeout), "healthy once the lag is gone");
        Assert.True(await Eventually.True(() => metrics.Sum("messaging.redis_streams.consumer.lag", group, destination) == 0, Timeout),
            "the lag gauge goes back to zero");
    }

    [Fact]
    public async Task Claims_of_an_idle_consumer_and_the_ends_of_idle_waits_by_wake_up_and_by_poll_are_counted()
    {
        using var metrics = new MetricsCollector();
        var redis = await RedisTestContext.Create();
        var queue = "claims-" + Guid.NewGuid().ToString("N")[..8];
        var queueKey = redis.Key("queue:" + queue);
        var handled = new Recorder<int>();
        var db = await redis.Database();

        // An instance that read an entry and vanished, under a name that never held a lease.
        await db.StreamCreateConsumerGroupAsync(queueKey, queue, "0", createStream: true);
        var sender = Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix));
        await sender.StartAsync();
        try
        {
            var endpoint = await sender.GetSendEndpoint(new Uri("queue:" + queue));
            await endpoint.Send(new Ping(1));
            Assert.Single(await db.StreamReadGroupAsync(queueKey, queue, "vanished", ">", 1));

            var consumer = Bus.Factory.CreateUsingRedisStreams(cfg =>
            {
                cfg.Host(redis.ConnectionString, h =>
                {
                    h.KeyPrefix = redis.KeyPrefix;
                    h.ClaimTimeout = TimeSpan.FromSeconds(1);
                    h.IdlePollInterval = TimeSpan.FromMilliseconds(300);
                });
                cfg.ReceiveEndpoint(queue, e => e.Handler<Ping>(ctx =>
                {
                    handled.Add(ctx.Message.Number);
                    return Task.CompletedTask;
                }));
            });

            await consumer.StartAsync();
            try
            {
                Assert.True(await Eventually.True(() => handled.Items.Contains(1), Timeout), "the vanished consumer's entry is claimed and handled");
                Assert.True(await Eventually.True(() => metrics.Sum("messaging.redis_streams.claimed", ("messaging.consumer.group.name", queue)) == 1, Timeout),
                    "the claim is counted");

                var polls = ("messaging.redis_streams.trigger", (object?)"poll");
                var wakes = ("messaging.redis_streams.trigger", (object?)"wake");
                var group = ("messaging.consumer.group.name", (object?)queue);
                Assert.True(await Eventually.True(() => metrics.Sum("messaging.redis_streams.idle_waits", group, polls) >= 2, Timeout),
                    "an idle endpoint's polls are counted");

                // A new entry wakes the idle endpoint; on a loaded machine a poll may find it first, so a few are sent if need be.
                var woken = metrics.Sum("messaging.redis_streams.idle_waits", group, wakes);
                for (var number = 2; number < 7 && metrics.Sum("messaging.redis_streams.idle_waits", group, wakes) <= woken; number++)
                {
                    await endpoint.Send(new Ping(number));
                    Assert.True(await Eventually.True(() => handled.Items.Contains(number), Timeout));
                    await Eventually.True(() => metrics.Sum("messaging.redis_streams.idle_waits", group, wakes) > woken, TimeSpan.FromSeconds(2));
                }

                Assert.True(metrics.Sum("messaging.redis_streams.idle_waits", group, wakes) > woken, "the wake-up that brought a new entry is counted");
            }
            finally
            {
                await consumer.StopAsync();
            }
        }
        finally
        {
            await sender.StopAsync();
        }
    }

    [RedisServerFact]
    public async Task Connection_failures_and_reconnects_are_counted()
    {
        using var metrics = new MetricsCollector();
        using var server = RedisServerProcess.Start();
        var redis = await RedisTestContext.Create(server.ConnectionString);
        var queue = "reconnects-" + Guid.NewGuid().ToString("N")[..8];

        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint(queue, e => e.Handler<Ping>(_ => Task.CompletedTask));
        });
        await bus.StartAsync();
        try
        {
            var failures = metrics.Sum("messaging.redis_streams.redis.connection_failures");
            var reconnects = metrics.Sum("messaging.redis_streams.redis.reconnects");

            await using (var admin = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true"))
                await admin.GetDatabase().ExecuteAsync("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");

            Assert.True(await Eventually.True(() => metrics.Sum("messaging.redis_streams.redis.connection_failures") > failures, Timeout),
                "the failed connection is counted");
            Assert.True(await Eventually.True(() => metrics.Sum("messaging.redis_streams.redis.reconnects") > reconnects, Timeout),
                "the restored connection is counted");
        }
        finally
        {
            await bus.StopAsync();
        }
    }
}
