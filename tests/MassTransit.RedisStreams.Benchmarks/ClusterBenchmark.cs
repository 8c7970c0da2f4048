namespace MassTransit.RedisStreams.Benchmarks;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// Throughput with the streams spread over a Redis Cluster of three primaries against one Redis: six queues, each with an
/// endpoint, take sends round robin; then three event types, each consumed by two of the endpoints, take publishes. Every
/// server is a private redis-server on this machine, so the client and all the servers share its cores.
/// Usage: <c>dotnet run -c Release --project tests/MassTransit.RedisStreams.Benchmarks -- cluster [--quick]</c>.
/// </summary>
public static class ClusterBenchmark
{
    public const string Mode = "cluster";

    const int Queues = 6;
    const int InFlight = 256;

    public static async Task<int> Run(string[] args)
    {
        var quick = args.Contains("--quick");
        var messages = quick ? 20_000 : 60_000;
        var rounds = quick ? 1 : 4;

        using var single = PrivateRedis.Start(appendOnly: false);
        using var cluster = await PrivateCluster.Start();
        Console.WriteLine($"{Environment.ProcessorCount} cores; .NET {Environment.Version}; one Redis at {single.ConnectionString}; "
            + $"a cluster of three primaries at {cluster.ConnectionString}");

        // A short unrecorded run on each first, so that the JIT and the connections are warm for both.
        foreach (var connection in new[] { single.ConnectionString, cluster.ConnectionString })
        foreach (var workload in new[] { "send", "publish" })
            await Measure(connection, workload, 5_000);

        var results = new List<(string Workload, string Topology, double Rate)>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var workload in new[] { "send", "publish" })
            {
                // Alternate which goes first, so that neither always runs on a warmer machine.
                var topologies = new[] { ("one Redis", single.ConnectionString), ("cluster, 3 primaries", cluster.ConnectionString) };
                if (round % 2 == 1)
                    Array.Reverse(topologies);

                foreach (var (name, connection) in topologies)
                {
                    var rate = await Measure(connection, workload, messages);
                    results.Add((workload, name, rate));
                    Console.WriteLine($"{workload,-8} {name,-22} {messages} messages, {InFlight} in flight: {rate,8:F0} msg/s end to end");
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine($"Median of {rounds} run(s):");
        Console.WriteLine("| workload | one Redis (msg/s) | cluster, 3 primaries (msg/s) | ratio |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var workload in new[] { "send", "publish" })
        {
            var one = Median(results.Where(x => x.Workload == workload && x.Topology == "one Redis").Select(x => x.Rate));
            var three = Median(results.Where(x => x.Workload == workload && x.Topology != "one Redis").Select(x => x.Rate));
            Console.WriteLine($"| {workload} | {one:F0} | {three:F0} | {three / one:F2} |");
        }

        return 0;
    }

    static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Sends or publishes <paramref name="messages" /> and returns how many a second were consumed, from the first send to the last consumed.</summary>
    static async Task<double> Measure(string connection, string workload, int messages)
    {
        var prefix = "bench" + Guid.NewGuid().ToString("N")[..6];
        var expected = workload == "send" ? messages : messages * 2;
        var consumed = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        void Consumed()
        {
            if (Interlocked.Increment(ref consumed) == expected)
                done.TrySetResult();
        }

        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(connection, h => h.KeyPrefix = prefix);
            for (var i = 0; i < Queues; i++)
            {
                var index = i;
                cfg.ReceiveEndpoint("bench-" + i, e =>
                {
                    e.PrefetchCount = 100;
                    e.Handler<Ping>(_ =>
                    {
                        Consumed();
                        return Task.CompletedTask;
                    });
                    switch (index % 3)
                    {
                        case 0:
                            e.Handler<ClusterEventA>(_ =>
                            {
                                Consumed();
                                return Task.CompletedTask;
                            });
                            break;
                        case 1:
                            e.Handler<ClusterEventB>(_ =>
                            {
                                Consumed();
                                return Task.CompletedTask;
                            });
                            break;
                        default:
                            e.Handler<ClusterEventC>(_ =>
                            {
                                Consumed();
                                return Task.CompletedTask;
                            });
                            break;
                    }
                });
            }
        });

        await bus.StartAsync();
        try
        {
            var endpoints = new ISendEndpoint[Queues];
            for (var i = 0; i < Queues; i++)
                endpoints[i] = await bus.GetSendEndpoint(new Uri("queue:bench-" + i));

            var stopwatch = Stopwatch.StartNew();
            using var gate = new SemaphoreSlim(InFlight);
            var sends = new List<Task>(messages);
            for (var i = 0; i < messages; i++)
            {
                await gate.WaitAsync();
                sends.Add(Send(i));
            }

            await Task.WhenAll(sends);
            await done.Task.WaitAsync(TimeSpan.FromMinutes(5));

            return expected / stopwatch.Elapsed.TotalSeconds;

            async Task Send(int i)
            {
                try
                {
                    var task = workload == "send"
                        ? endpoints[i % Queues].Send(new Ping(i))
                        : (i % 3) switch
                        {
                            0 => bus.Publish(new ClusterEventA(i)),
                            1 => bus.Publish(new ClusterEventB(i)),
                            _ => bus.Publish(new ClusterEventC(i))
                        };
                    await task;
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
}


public record ClusterEventA(long Sequence);


public record ClusterEventB(long Sequence);


public record ClusterEventC(long Sequence);


/// <summary>Three private redis-servers joined into a cluster of three primaries with <c>redis-cli --cluster create</c>.</summary>
sealed class PrivateCluster :
    IDisposable
{
    readonly PrivateRedis[] _nodes;

    PrivateCluster(PrivateRedis[] nodes)
    {
        _nodes = nodes;
    }

    public string ConnectionString => string.Join(",", _nodes.Select(x => x.ConnectionString));

    public static async Task<PrivateCluster> Start()
    {
        var nodes = new PrivateRedis[3];
        for (var i = 0; i < nodes.Length; i++)
            nodes[i] = PrivateRedis.Start(false, $"--cluster-enabled yes --cluster-config-file nodes.conf --cluster-port {PrivateRedis.FreePort()}");

        var cluster = new PrivateCluster(nodes);
        try
        {
            var create = Process.Start(new ProcessStartInfo("redis-cli",
                ["--cluster", "create", .. nodes.Select(x => x.ConnectionString), "--cluster-replicas", "0", "--cluster-yes"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true
            })!;
            var output = await create.StandardOutput.ReadToEndAsync();
            await create.WaitForExitAsync();
            if (create.ExitCode != 0)
                throw new InvalidOperationException("redis-cli --cluster create failed:\n" + output + await create.StandardError.ReadToEndAsync());

            var deadline = Stopwatch.StartNew();
            foreach (var node in nodes)
            {
                await using var connection = await ConnectionMultiplexer.ConnectAsync(node.ConnectionString + ",allowAdmin=true");
                while (!((string?)await connection.GetServers()[0].ExecuteAsync("CLUSTER", "INFO") ?? "").Contains("cluster_state:ok", StringComparison.Ordinal))
                {
                    if (deadline.Elapsed > TimeSpan.FromSeconds(30))
                        throw new TimeoutException("The cluster did not become ok within 30 s");
                    await Task.Delay(50);
                }
            }

            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var node in _nodes)
            node?.Dispose();
    }
}
