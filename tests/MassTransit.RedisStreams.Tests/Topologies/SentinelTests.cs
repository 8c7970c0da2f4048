namespace MassTransit.RedisStreams.Tests.Topologies;

using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Redis;
using StackExchange.Redis;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;


/// <summary>
/// Redis Sentinel: a primary, a replica and three sentinels. The bus finds the primary through the sentinels
/// (<c>serviceName=</c>) and keeps working when the primary is killed and the replica takes over; with WaitForReplicas,
/// no send that completed is lost with the primary.
/// </summary>
[Trait("Category", "Sentinel")]
public class SentinelTests
{
    const string ServiceName = "orders";
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    readonly ITestOutputHelper _output;

    public SentinelTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [RedisServerFact]
    public async Task The_bus_finds_the_primary_through_the_sentinels_and_keeps_working_across_a_failover()
    {
        using var topology = await SentinelTopology.Start();
        var (primary, replica) = (topology.Primary, topology.Replica);

        var received = new ConcurrentDictionary<int, bool>();
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(topology.Configuration, h => h.KeyPrefix = "orders");
            cfg.ReceiveEndpoint("order-audit", e => e.Handler<AuctionEnded>(context =>
            {
                received[(int)context.Message.Amount] = true;
                return Task.CompletedTask;
            }));
        });

        await bus.StartAsync(new CancellationTokenSource(Timeout).Token);
        try
        {
            var endpoint = await bus.GetSendEndpoint(new Uri("queue:order-audit"));

            for (var i = 0; i < 20; i++)
                await endpoint.Send(new AuctionEnded(Guid.NewGuid(), "before", i));

            Assert.True(await Eventually.True(() => Task.FromResult(received.Count == 20), Timeout), "the messages sent before the failover arrive");

            // Acknowledged by the primary alone, then the primary dies at once: asynchronous replication may lose some.
            const int unreplicated = 500;
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(1000, unreplicated).Select(i => endpoint.Send(new AuctionEnded(Guid.NewGuid(), "acknowledged", i))));
            _output.WriteLine($"{unreplicated} concurrent sends without waiting for a replica took {watch.Elapsed.TotalMilliseconds:0} ms");

            // The primary dies; sends made while there is none wait for the new one (SendTimeout is 30 s).
            var failover = Stopwatch.StartNew();
            primary.Kill();

            var during = Enumerable.Range(100, 20).Select(i => endpoint.Send(new AuctionEnded(Guid.NewGuid(), "during", i))).ToArray();
            await Task.WhenAll(during).WaitAsync(Timeout);
            _output.WriteLine($"the sends made during the failover completed after {failover.Elapsed.TotalSeconds:0.0} s");

            for (var i = 200; i < 220; i++)
                await endpoint.Send(new AuctionEnded(Guid.NewGuid(), "after", i));

            Assert.True(await Eventually.True(() => Task.FromResult(Enumerable.Range(100, 20).Concat(Enumerable.Range(200, 20)).All(received.ContainsKey)),
                Timeout), "every message sent during and after the failover arrives");
            _output.WriteLine($"all received {failover.Elapsed.TotalSeconds:0.0} s after the kill");

            // What asynchronous replication lost: measured, not asserted (WaitForReplicas is the remedy, tested below).
            await Eventually.True(() => Task.FromResult(Enumerable.Range(1000, unreplicated).All(received.ContainsKey)), TimeSpan.FromSeconds(5));
            _output.WriteLine($"acknowledged sends lost in the failover without WaitForReplicas: "
                + $"{unreplicated - Enumerable.Range(1000, unreplicated).Count(received.ContainsKey)} of {unreplicated}");

            // The new primary is the old replica.
            await using var check = await ConnectionMultiplexer.ConnectAsync(replica.ConnectionString);
            var role = (RedisResult[])(await check.GetDatabase().ExecuteAsync("ROLE"))!;
            Assert.Equal("master", (string?)role[0]);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    /// <summary>
    /// The bus health check, asked every 100 ms: healthy before the primary is killed, healthy again once the new primary
    /// serves, and healthy all the time after; whatever it reports in between is measured.
    /// </summary>
    [RedisServerFact]
    public async Task Health_is_unhealthy_only_during_the_failover()
    {
        using var topology = await SentinelTopology.Start();
        var redis = await RedisTestContext.Create(topology.Configuration);
        await using var provider = await redis.StartHarness(x => x.AddConsumer<NotificationConsumer>(),
            services: s => s.AddSingleton(new DeliveryLogs()));
        var health = provider.GetRequiredService<HealthCheckService>();
        var harness = provider.GetRequiredService<MassTransit.Testing.ITestHarness>();
        var log = provider.GetRequiredService<DeliveryLogs>().Get(nameof(NotificationConsumer));

        async Task<HealthStatus> Status() => (await health.CheckHealthAsync()).Status;
        async Task<System.Collections.Generic.List<HealthStatus>> Sample(TimeSpan period)
        {
            var samples = new System.Collections.Generic.List<HealthStatus>();
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < period)
            {
                samples.Add(await Status());
                await Task.Delay(100);
            }

            return samples;
        }

        Assert.True(await Eventually.True(async () => await Status() == HealthStatus.Healthy, Timeout), "healthy once started");
        Assert.All(await Sample(TimeSpan.FromSeconds(1)), x => Assert.Equal(HealthStatus.Healthy, x));

        var failover = Stopwatch.StartNew();
        topology.Primary.Kill();

        // During: sampled until a message published after the kill has been consumed and the check says healthy.
        var during = new System.Collections.Generic.List<HealthStatus>();
        var auctionId = Guid.NewGuid();
        var publish = harness.Bus.Publish(new AuctionEnded(auctionId, "during", 1m));
        Assert.True(await Eventually.True(async () =>
        {
            var status = await Status();
            during.Add(status);
            return status == HealthStatus.Healthy && publish.IsCompletedSuccessfully && log.CountOf(auctionId.ToString()) > 0;
        }, Timeout), "healthy again, and consuming, after the failover");
        var recovered = failover.Elapsed;

        // After: healthy throughout.
        Assert.All(await Sample(TimeSpan.FromSeconds(3)), x => Assert.Equal(HealthStatus.Healthy, x));

        _output.WriteLine($"recovered {recovered.TotalSeconds:0.0} s after the kill; during it the check said: "
            + string.Join(", ", during.GroupBy(x => x).Select(x => $"{x.Key} {x.Count()}×")));
    }

    [RedisServerFact]
    public async Task With_WaitForReplicas_no_acknowledged_send_is_lost_when_the_primary_dies()
    {
        using var topology = await SentinelTopology.Start();
        var (primary, replica) = (topology.Primary, topology.Replica);

        var received = new ConcurrentDictionary<int, bool>();
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(topology.Configuration, h =>
            {
                h.KeyPrefix = "orders";
                h.WaitForReplicas = 1;
            });
            cfg.ReceiveEndpoint("order-ledger", e => e.Handler<AuctionEnded>(context =>
            {
                received[(int)context.Message.Amount] = true;
                return Task.CompletedTask;
            }));
        });

        await bus.StartAsync(new CancellationTokenSource(Timeout).Token);
        try
        {
            var endpoint = await bus.GetSendEndpoint(new Uri("queue:order-ledger"));
            await endpoint.Send(new AuctionEnded(Guid.NewGuid(), "warm-up", -1));

            // The cost: 200 sends one after another, each waiting for the replica, against a bus that does not wait.
            var plainBus = Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(topology.Configuration, h => h.KeyPrefix = "orders"));
            await plainBus.StartAsync(new CancellationTokenSource(Timeout).Token);
            try
            {
                var plain = await plainBus.GetSendEndpoint(new Uri("queue:order-cost"));
                var waiting = await bus.GetSendEndpoint(new Uri("queue:order-cost"));
                await plain.Send(new AuctionEnded(Guid.NewGuid(), "warm-up", -1));
                await waiting.Send(new AuctionEnded(Guid.NewGuid(), "warm-up", -1));
                var plainWatch = Stopwatch.StartNew();
                for (var i = 0; i < 200; i++)
                    await plain.Send(new AuctionEnded(Guid.NewGuid(), "cost", i));
                var plainTime = plainWatch.Elapsed;
                var waitingWatch = Stopwatch.StartNew();
                for (var i = 0; i < 200; i++)
                    await waiting.Send(new AuctionEnded(Guid.NewGuid(), "cost", i));
                _output.WriteLine($"one send at a time: {plainTime.TotalMilliseconds / 200:0.000} ms without WaitForReplicas, "
                    + $"{waitingWatch.Elapsed.TotalMilliseconds / 200:0.000} ms with WaitForReplicas = 1");
            }
            finally
            {
                await plainBus.StopAsync();
            }

            // Every send completes only once the replica has its entry; then the primary dies at once, before the
            // endpoint has read them all.
            const int count = 500;
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, count).Select(i => endpoint.Send(new AuctionEnded(Guid.NewGuid(), "ledger", i))));
            _output.WriteLine($"{count} concurrent sends, each waiting for a replica, took {watch.Elapsed.TotalMilliseconds:0} ms");
            primary.Kill();

            Assert.True(await Eventually.True(() => Task.FromResult(Enumerable.Range(0, count).All(received.ContainsKey)), Timeout),
                $"every acknowledged send arrives after the failover ({Enumerable.Range(0, count).Count(received.ContainsKey)} of {count})");
        }
        finally
        {
            await bus.StopAsync();
        }
    }


    /// <summary>
    /// What asynchronous replication can lose: the replica's link is cut just before 200 sends, and the primary is killed
    /// right after them, before the replica has reconnected. Without WaitForReplicas the sends complete and what the replica
    /// never got is gone after the failover (measured); with it, a send completes only once the replica has its entry, so
    /// every send that completed is on the new primary (asserted), and the others failed with an exception.
    /// </summary>
    [RedisServerTheory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task A_failover_right_after_the_replica_lost_its_link_loses_only_sends_that_did_not_wait_for_it(int waitForReplicas)
    {
        using var topology = await SentinelTopology.Start();
        var (primary, replica) = (topology.Primary, topology.Replica);
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(topology.Configuration, h =>
        {
            h.KeyPrefix = "orders";
            h.WaitForReplicas = waitForReplicas;
        }));

        await bus.StartAsync(new CancellationTokenSource(Timeout).Token);
        var acknowledged = new ConcurrentBag<int>();
        var failed = 0;
        try
        {
            var endpoint = await bus.GetSendEndpoint(new Uri("queue:order-ledger"));
            await endpoint.Send(new AuctionEnded(Guid.NewGuid(), "warm-up", -1));

            await using var replicaConnection = await ConnectionMultiplexer.ConnectAsync(replica.ConnectionString);
            Assert.True(await Eventually.True(async () => await replicaConnection.GetDatabase().StreamLengthAsync("orders:queue:order-ledger") == 1, Timeout),
                "the replica has the warm-up entry");

            // The replica falls behind: it sleeps for 3 s (so it cannot reconnect), and the primary closes the link to it.
            await using var replicaAdmin = await ConnectionMultiplexer.ConnectAsync(replica.ConnectionString + ",allowAdmin=true,asyncTimeout=10000");
            var sleeping = replicaAdmin.GetDatabase().ExecuteAsync("DEBUG", "SLEEP", "3");
            await using (var admin = await ConnectionMultiplexer.ConnectAsync(primary.ConnectionString + ",allowAdmin=true"))
            {
                Assert.True(await Eventually.True(async () => (await admin.GetServers()[0].InfoAsync("replication")).SelectMany(x => x)
                    .Any(x => x.Key == "connected_slaves" && x.Value == "1"), Timeout), "the replica is connected");
                await admin.GetDatabase().ExecuteAsync("CLIENT", "KILL", "TYPE", "replica");
            }

            const int count = 200;
            await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
            {
                try
                {
                    await endpoint.Send(new AuctionEnded(Guid.NewGuid(), "ledger", i));
                    acknowledged.Add(i);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref failed);
                }
            }));
            primary.Kill();
            await sleeping;

            // The sentinels close the replica's client connections when they promote it: asked again until it answers master.
            Assert.True(await Eventually.True(async () =>
            {
                try
                {
                    var role = (RedisResult[])(await replicaConnection.GetDatabase().ExecuteAsync("ROLE"))!;
                    return (string?)role[0] == "master";
                }
                catch (RedisConnectionException)
                {
                    return false;
                }
            }, Timeout), "the replica was promoted");

            await using var promoted = await ConnectionMultiplexer.ConnectAsync(replica.ConnectionString);
            var kept = (await promoted.GetDatabase().StreamRangeAsync("orders:queue:order-ledger"))
                .Select(x => JsonDocument.Parse((string)x["body"]!).RootElement.GetProperty("amount"))
                .Select(x => (int)(x.ValueKind == JsonValueKind.String ? decimal.Parse(x.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : x.GetDecimal()))
                .ToHashSet();
            var lost = acknowledged.Count(x => !kept.Contains(x));
            _output.WriteLine($"WaitForReplicas {waitForReplicas}: {acknowledged.Count} sends completed, {failed} failed; "
                + $"lost in the failover: {lost} of the {acknowledged.Count} completed");

            Assert.Equal(count, acknowledged.Count + failed);
            if (waitForReplicas > 0)
                Assert.Equal(0, lost);
            else
                Assert.True(lost > 0, "without WaitForReplicas, sends the replica never got are lost: what the option prevents");
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    /// <summary>A primary with AOF, a replica online, and three sentinels watching them under <see cref="ServiceName" />.</summary>
    sealed class SentinelTopology :
        IDisposable
    {
        readonly RedisSentinelProcess[] _sentinels;

        SentinelTopology(RedisServerProcess primary, RedisServerProcess replica, RedisSentinelProcess[] sentinels)
        {
            Primary = primary;
            Replica = replica;
            _sentinels = sentinels;
        }

        public RedisServerProcess Primary { get; }
        public RedisServerProcess Replica { get; }

        /// <summary>The configuration string that finds the primary through the sentinels.</summary>
        public string Configuration => string.Join(",", _sentinels.Select(x => x.Address)) + ",serviceName=" + ServiceName;

        public static async Task<SentinelTopology> Start()
        {
            var primary = RedisServerProcess.Start(appendOnly: true, appendFsync: "everysec");
            var replica = RedisServerProcess.Start(false, "everysec", $"replicaof 127.0.0.1 {primary.Port}", "enable-debug-command local");
            var sentinels = new RedisSentinelProcess[3];
            var topology = new SentinelTopology(primary, replica, sentinels);
            try
            {
                for (var i = 0; i < sentinels.Length; i++)
                    sentinels[i] = await RedisSentinelProcess.Start(ServiceName, primary.Port, 2);

                await WaitForReplica(primary);
                return topology;
            }
            catch
            {
                topology.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            foreach (var sentinel in _sentinels)
                sentinel?.Dispose();

            Replica.Dispose();
            Primary.Dispose();
        }

        static async Task WaitForReplica(RedisServerProcess primary)
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(primary.ConnectionString + ",allowAdmin=true");
            var server = connection.GetServer(primary.ConnectionString);
            // Online, not only connected: a replica still loading the primary's snapshot acknowledges nothing.
            Assert.True(await Eventually.True(async () => (await server.InfoAsync("replication")).SelectMany(x => x)
                .Any(x => x.Key.StartsWith("slave", StringComparison.Ordinal) && x.Value.Contains("state=online", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(15)), "the replica is online");
        }
    }
}
