namespace MassTransit.RedisStreams.Tests.Infrastructure;

using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// A private Redis Cluster of three primaries, each a <see cref="RedisServerProcess" />, joined with
/// <c>redis-cli --cluster create</c>: where a command whose keys live in different hash slots fails with CROSSSLOT.
/// </summary>
public sealed class RedisClusterProcess :
    IDisposable
{
    readonly RedisServerProcess[] _nodes;

    RedisClusterProcess(RedisServerProcess[] nodes)
    {
        _nodes = nodes;
    }

    /// <summary>A StackExchange.Redis configuration string naming every node.</summary>
    public string ConnectionString => string.Join(",", _nodes.Select(x => x.ConnectionString));

    /// <summary>Whether <c>redis-cli</c>, which joins the nodes, is on PATH beside redis-server.</summary>
    public static bool IsAvailable =>
        RedisServerProcess.FindExecutable() is { } server && System.IO.File.Exists(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(server)!, "redis-cli"));

    public static async Task<RedisClusterProcess> Start()
    {
        var nodes = new RedisServerProcess[3];
        try
        {
            for (var i = 0; i < nodes.Length; i++)
                nodes[i] = RedisServerProcess.Start(appendOnly: false, extraConfig: ["cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 5000"]);

            var cli = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(RedisServerProcess.FindExecutable()!)!, "redis-cli");
            var create = Process.Start(new ProcessStartInfo(cli,
                ["--cluster", "create", .. nodes.Select(x => x.ConnectionString), "--cluster-replicas", "0", "--cluster-yes"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true
            })!;
            var output = await create.StandardOutput.ReadToEndAsync();
            var error = await create.StandardError.ReadToEndAsync();
            await create.WaitForExitAsync();
            if (create.ExitCode != 0)
                throw new InvalidOperationException($"redis-cli --cluster create failed ({create.ExitCode}):\n{output}\n{error}");

            var cluster = new RedisClusterProcess(nodes);
            await cluster.WaitUntilReady();
            return cluster;
        }
        catch
        {
            foreach (var node in nodes)
                node?.Dispose();
            throw;
        }
    }

    async Task WaitUntilReady()
    {
        var stopwatch = Stopwatch.StartNew();
        foreach (var node in _nodes)
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(node.ConnectionString + ",allowAdmin=true");
            while (true)
            {
                var info = (string?)await connection.GetServers()[0].ExecuteAsync("CLUSTER", "INFO") ?? "";
                if (info.Contains("cluster_state:ok", StringComparison.Ordinal))
                    break;

                if (stopwatch.Elapsed > TimeSpan.FromSeconds(30))
                    throw new TimeoutException("The cluster did not reach cluster_state:ok within 30 s:\n" + info);

                await Task.Delay(50);
            }
        }
    }

    public void Dispose()
    {
        foreach (var node in _nodes)
            node.Dispose();
    }
}


/// <summary>A fact that needs a private Redis Cluster; skipped on a machine without redis-server and redis-cli.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RedisClusterFactAttribute : Xunit.FactAttribute
{
    public RedisClusterFactAttribute()
    {
        if (!RedisClusterProcess.IsAvailable)
            Skip = "Needs redis-server and redis-cli on PATH (Debian/Ubuntu: sudo apt-get install -y redis-server).";
    }
}
