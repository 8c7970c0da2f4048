namespace MassTransit.RedisStreams.Tests.Infrastructure;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// A private Redis Cluster of three primaries, each a <see cref="RedisServerProcess" />, with optional replicas, joined with
/// <c>redis-cli --cluster create</c>: where a command whose keys live in different hash slots fails with CROSSSLOT. A test can
/// find the node that serves a slot, kill a node, and move a slot from one primary to another while clients use it.
/// </summary>
public sealed class RedisClusterProcess :
    IDisposable
{
    readonly RedisServerProcess[] _nodes;

    RedisClusterProcess(RedisServerProcess[] nodes)
    {
        _nodes = nodes;
    }

    /// <summary>Every node, primaries and replicas, in the order they were started.</summary>
    public IReadOnlyList<RedisServerProcess> Nodes => _nodes;

    /// <summary>A StackExchange.Redis configuration string naming every node.</summary>
    public string ConnectionString => string.Join(",", _nodes.Select(x => x.ConnectionString));

    /// <summary>Whether <c>redis-cli</c>, which joins the nodes, is on PATH beside redis-server.</summary>
    public static bool IsAvailable => Cli is { } cli && System.IO.File.Exists(cli);

    static string? Cli =>
        RedisServerProcess.FindExecutable() is { } server ? System.IO.Path.Combine(System.IO.Path.GetDirectoryName(server)!, "redis-cli") : null;

    /// <summary>Starts three primaries, each with <paramref name="replicas" /> replicas, and returns once the cluster is ok.</summary>
    /// <param name="replicas">Replicas per primary.</param>
    /// <param name="nodeTimeout">How long a node may not answer before the others take it for failed (cluster-node-timeout).</param>
    public static async Task<RedisClusterProcess> Start(int replicas = 0, TimeSpan? nodeTimeout = null)
    {
        var timeout = (int)(nodeTimeout ?? TimeSpan.FromSeconds(5)).TotalMilliseconds;
        var nodes = new RedisServerProcess[3 * (1 + replicas)];
        try
        {
            for (var i = 0; i < nodes.Length; i++)
            {
                // The cluster bus port is the client port + 10000 unless named; a free port of its own keeps it below 65536.
                nodes[i] = RedisServerProcess.Start(appendOnly: false, extraConfig:
                [
                    "cluster-enabled yes", "cluster-config-file nodes.conf", $"cluster-node-timeout {timeout}",
                    $"cluster-port {RedisServerProcess.FindFreePort()}", "cluster-replica-validity-factor 0", "repl-diskless-sync yes",
                    "repl-diskless-sync-delay 0"
                ]);
            }

            var (exitCode, output) = await RunCli(["--cluster", "create", .. nodes.Select(x => x.ConnectionString), "--cluster-replicas",
                replicas.ToString(CultureInfo.InvariantCulture), "--cluster-yes"]);
            if (exitCode != 0)
                throw new InvalidOperationException($"redis-cli --cluster create failed ({exitCode}):\n{output}");

            var cluster = new RedisClusterProcess(nodes);
            await cluster.WaitUntilHealthy(TimeSpan.FromSeconds(30));
            return cluster;
        }
        catch
        {
            foreach (var node in nodes)
                node?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Waits until every running node reports cluster_state:ok, agrees on the primary of every slot, and every running replica's
    /// link to its primary is up.
    /// </summary>
    public async Task WaitUntilHealthy(TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        var last = "";
        while (true)
        {
            try
            {
                if (await IsHealthy())
                    return;
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                last = exception.Message;
            }

            if (stopwatch.Elapsed > timeout)
                throw new TimeoutException($"The cluster was not healthy within {timeout}: {last}\n{await Describe()}");

            await Task.Delay(50);
        }
    }

    async Task<bool> IsHealthy()
    {
        string? layout = null;
        foreach (var node in _nodes.Where(x => x.IsRunning))
        {
            var info = await Execute(node, "CLUSTER", "INFO");
            if (!info.Contains("cluster_state:ok", StringComparison.Ordinal))
                return false;

            var nodes = Parse(await Execute(node, "CLUSTER", "NODES"));
            var serving = nodes.Where(x => x.IsPrimary && x.Slots.Count > 0).ToList();
            if (serving.Any(x => x.Flags.Contains("fail") || x.Flags.Contains("fail?")) || serving.Sum(x => x.Slots.Sum(r => r.Last - r.First + 1)) != 16384)
                return false;

            var primaries = string.Join(";", serving.OrderBy(x => x.Port).Select(x => x.Port + "=" + string.Join(",", x.Slots)));
            if (layout != null && layout != primaries)
                return false;
            layout = primaries;

            var replication = await Execute(node, "INFO", "replication");
            if (replication.Contains("role:slave", StringComparison.Ordinal) && !replication.Contains("master_link_status:up", StringComparison.Ordinal))
                return false;
        }

        return layout != null;
    }

    /// <summary>The cluster's view of its nodes, as a running node sees it.</summary>
    public async Task<IReadOnlyList<ClusterNode>> GetNodes()
    {
        var node = _nodes.First(x => x.IsRunning);
        return Parse(await Execute(node, "CLUSTER", "NODES"));
    }

    /// <summary>The running primary that serves <paramref name="slot" />.</summary>
    public async Task<RedisServerProcess> PrimaryOf(int slot)
    {
        var nodes = await GetNodes();
        var primary = nodes.Single(x => x.IsPrimary && !x.Flags.Contains("fail") && x.Slots.Any(range => range.First <= slot && slot <= range.Last));
        return _nodes.Single(x => x.Port == primary.Port);
    }

    /// <summary>The replicas of <paramref name="primary" />, as the cluster sees them.</summary>
    public async Task<IReadOnlyList<RedisServerProcess>> ReplicasOf(RedisServerProcess primary)
    {
        var nodes = await GetNodes();
        var id = nodes.Single(x => x.Port == primary.Port).Id;
        return nodes.Where(x => x.PrimaryId == id && !x.Flags.Contains("fail")).Select(x => _nodes.Single(n => n.Port == x.Port)).ToList();
    }

    /// <summary>How many commands <paramref name="node" /> has answered with an error of this kind (INFO errorstats), e.g. TRYAGAIN.</summary>
    public static async Task<long> ErrorCount(RedisServerProcess node, string error)
    {
        var stats = await Execute(node, "INFO", "errorstats");
        var line = stats.Split('\n').Select(x => x.Trim()).FirstOrDefault(x => x.StartsWith("errorstat_" + error + ":count=", StringComparison.Ordinal));
        return line == null ? 0 : long.Parse(line.Split('=')[1].Split(',')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>How many times <paramref name="node" /> has run <paramref name="command" /> (INFO commandstats), e.g. wait.</summary>
    public static async Task<long> CommandCount(RedisServerProcess node, string command)
    {
        var stats = await Execute(node, "INFO", "commandstats");
        var line = stats.Split('\n').Select(x => x.Trim()).FirstOrDefault(x => x.StartsWith("cmdstat_" + command + ":calls=", StringComparison.Ordinal));
        return line == null ? 0 : long.Parse(line.Split('=')[1].Split(',')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>Empties the script cache of <paramref name="node" /> (SCRIPT FLUSH): EVALSHA gets NOSCRIPT there until a script is sent again.</summary>
    public static Task FlushScripts(RedisServerProcess node) => Execute(node, "SCRIPT", "FLUSH");

    /// <summary>The hash slot of <paramref name="key" /> as the cluster computes it (<c>CLUSTER KEYSLOT</c>).</summary>
    public async Task<int> KeySlot(RedisKey key) =>
        int.Parse((await Execute(_nodes.First(x => x.IsRunning), "CLUSTER", "KEYSLOT", key.ToString())).Trim(), CultureInfo.InvariantCulture);

    public async Task<string> IdOf(RedisServerProcess node) => (await Execute(node, "CLUSTER", "MYID")).Trim();

    /// <summary>The hash slot of a key, as Redis computes it.</summary>
    public static int SlotOf(RedisKey key) => ServerSelectionStrategyHashSlot(key);

    static int ServerSelectionStrategyHashSlot(RedisKey key)
    {
        var text = key.ToString();
        var open = text.IndexOf('{', StringComparison.Ordinal);
        if (open >= 0)
        {
            var close = text.IndexOf('}', open + 1);
            if (close > open + 1)
                text = text.Substring(open + 1, close - open - 1);
        }

        return Crc16(System.Text.Encoding.UTF8.GetBytes(text)) % 16384;
    }

    static int Crc16(byte[] bytes)
    {
        var crc = 0;
        foreach (var b in bytes)
        {
            crc ^= b << 8;
            for (var i = 0; i < 8; i++)
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            crc &= 0xFFFF;
        }

        return crc;
    }

    /// <summary>
    /// Moves one slot, with its keys, from the primary that serves it to <paramref name="target" /> while clients go on using it:
    /// CLUSTER SETSLOT IMPORTING on the target, MIGRATING on the source, MIGRATE of the keys in batches, then SETSLOT NODE on
    /// both and the others — what <c>redis-cli --cluster reshard</c> does for each slot. Clients meet ASK and TRYAGAIN meanwhile,
    /// MOVED after.
    /// </summary>
    /// <param name="slot">The slot.</param>
    /// <param name="target">The primary to move it to.</param>
    /// <param name="betweenKeys">
    /// When given, the keys move one at a time, and this runs after each but the last, with the source: while some keys of
    /// the slot have moved and others not, a command or script that touches both kinds gets TRYAGAIN.
    /// </param>
    /// <returns>How many keys moved.</returns>
    public async Task<int> MigrateSlot(int slot, RedisServerProcess target, Func<RedisServerProcess, Task>? betweenKeys = null)
    {
        var source = await PrimaryOf(slot);
        if (source == target)
            return 0;

        var sourceId = await IdOf(source);
        var targetId = await IdOf(target);
        var slotText = slot.ToString(CultureInfo.InvariantCulture);

        await Execute(target, "CLUSTER", "SETSLOT", slotText, "IMPORTING", sourceId);
        await Execute(source, "CLUSTER", "SETSLOT", slotText, "MIGRATING", targetId);

        var moved = 0;
        while (true)
        {
            await using var connection = await Connect(source);
            var keys = (RedisResult[])(await connection.GetServers()[0].ExecuteAsync("CLUSTER", "GETKEYSINSLOT", slotText,
                betweenKeys == null ? "10" : "1"))!;
            if (keys.Length == 0)
                break;

            if (moved > 0 && betweenKeys != null)
                await betweenKeys(source);

            await connection.GetServers()[0].ExecuteAsync("MIGRATE",
                ["127.0.0.1", target.Port.ToString(CultureInfo.InvariantCulture), "", "0", "5000", "KEYS", .. keys.Select(x => (object)(string)x!)]);
            moved += keys.Length;
        }

        await Execute(target, "CLUSTER", "SETSLOT", slotText, "NODE", targetId);
        await Execute(source, "CLUSTER", "SETSLOT", slotText, "NODE", targetId);
        foreach (var node in _nodes.Where(x => x.IsRunning && x != source && x != target))
        {
            try
            {
                await Execute(node, "CLUSTER", "SETSLOT", slotText, "NODE", targetId);
            }
            catch (RedisServerException)
            {
                // A replica refuses SETSLOT; it learns the new owner from its primary.
            }
        }

        return moved;
    }

    /// <summary>Moves <paramref name="count" /> slots from one primary to another with <c>redis-cli --cluster reshard</c>.</summary>
    public async Task Reshard(RedisServerProcess from, RedisServerProcess to, int count)
    {
        var (exitCode, output) = await RunCli(["--cluster", "reshard", from.ConnectionString, "--cluster-from", await IdOf(from), "--cluster-to",
            await IdOf(to), "--cluster-slots", count.ToString(CultureInfo.InvariantCulture), "--cluster-yes"]);
        if (exitCode != 0)
            throw new InvalidOperationException($"redis-cli --cluster reshard failed ({exitCode}):\n{output}");
    }

    public async Task<string> Describe()
    {
        try
        {
            return await Execute(_nodes.First(x => x.IsRunning), "CLUSTER", "NODES");
        }
        catch (Exception exception)
        {
            return exception.Message;
        }
    }

    static async Task<(int ExitCode, string Output)> RunCli(string[] arguments)
    {
        var process = Process.Start(new ProcessStartInfo(Cli!, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + "\n" + await error);
    }

    static Task<ConnectionMultiplexer> Connect(RedisServerProcess node) =>
        ConnectionMultiplexer.ConnectAsync(node.ConnectionString + ",allowAdmin=true,connectTimeout=2000,syncTimeout=5000");

    static async Task<string> Execute(RedisServerProcess node, string command, params object[] arguments)
    {
        await using var connection = await Connect(node);
        var result = await connection.GetServers()[0].ExecuteAsync(command, arguments);
        return result.Resp2Type == ResultType.Array ? string.Join("\n", ((RedisResult[])result!).Select(x => (string?)x)) : (string?)result ?? "";
    }

    static List<ClusterNode> Parse(string nodes)
    {
        var result = new List<ClusterNode>();
        foreach (var line in nodes.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ');
            var address = parts[1].Split('@')[0];
            var port = int.Parse(address[(address.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
            var slots = new List<(int, int)>();
            foreach (var part in parts.Skip(8))
            {
                if (part.StartsWith('['))
                    continue;

                var dash = part.IndexOf('-', StringComparison.Ordinal);
                slots.Add(dash < 0
                    ? (int.Parse(part, CultureInfo.InvariantCulture), int.Parse(part, CultureInfo.InvariantCulture))
                    : (int.Parse(part[..dash], CultureInfo.InvariantCulture), int.Parse(part[(dash + 1)..], CultureInfo.InvariantCulture)));
            }

            result.Add(new ClusterNode(parts[0], port, parts[2].Split(','), parts[3], parts[7] == "connected", slots.Select(x => new SlotRange(x.Item1, x.Item2)).ToList()));
        }

        return result;
    }

    public void Dispose()
    {
        foreach (var node in _nodes)
            node.Dispose();
    }
}


public sealed record SlotRange(int First, int Last)
{
    public override string ToString() => First + "-" + Last;
}


/// <summary>One line of CLUSTER NODES.</summary>
public sealed record ClusterNode(string Id, int Port, string[] Flags, string PrimaryId, bool Connected, IReadOnlyList<SlotRange> Slots)
{
    public bool IsPrimary => Flags.Contains("master");
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


/// <summary>A theory that needs a private Redis Cluster; skipped on a machine without redis-server and redis-cli.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RedisClusterTheoryAttribute : Xunit.TheoryAttribute
{
    public RedisClusterTheoryAttribute()
    {
        if (!RedisClusterProcess.IsAvailable)
            Skip = "Needs redis-server and redis-cli on PATH (Debian/Ubuntu: sudo apt-get install -y redis-server).";
    }
}
