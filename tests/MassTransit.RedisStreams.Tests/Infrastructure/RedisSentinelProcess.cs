namespace MassTransit.RedisStreams.Tests.Infrastructure;

using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// A private Redis Sentinel (redis-server --sentinel) on a free port of 127.0.0.1, watching one primary under a service
/// name, with short timeouts so that a test's failover takes seconds. Killed and its directory deleted on dispose.
/// </summary>
public sealed class RedisSentinelProcess :
    IDisposable
{
    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    readonly string _directory;
    readonly Process _process;

    RedisSentinelProcess(string directory, int port, Process process)
    {
        _directory = directory;
        Port = port;
        _process = process;
    }

    public int Port { get; }

    public string Address => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    public static async Task<RedisSentinelProcess> Start(string serviceName, int primaryPort, int quorum)
    {
        var executable = RedisServerProcess.FindExecutable()
            ?? throw new InvalidOperationException("redis-server is not on PATH (Debian/Ubuntu: sudo apt-get install -y redis-server).");

        var directory = Path.Combine(Path.GetTempPath(), "mt-redis-sentinel-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);

        var port = RedisServerProcess.FindFreePort();
        var config = Path.Combine(directory, "sentinel.conf");
        File.WriteAllText(config, string.Join('\n',
            $"port {port}",
            "bind 127.0.0.1",
            "protected-mode no",
            "daemonize no",
            $"dir {directory}",
            $"logfile {Path.Combine(directory, "sentinel.log")}",
            $"sentinel monitor {serviceName} 127.0.0.1 {primaryPort} {quorum}",
            $"sentinel down-after-milliseconds {serviceName} 1000",
            $"sentinel failover-timeout {serviceName} 5000",
            $"sentinel parallel-syncs {serviceName} 1") + "\n");

        var process = Process.Start(new ProcessStartInfo(executable, $"\"{config}\" --sentinel")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true
        }) ?? throw new InvalidOperationException("redis-server --sentinel could not be started.");

        var sentinel = new RedisSentinelProcess(directory, port, process);
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var options = ConfigurationOptions.Parse(sentinel.Address);
                options.CommandMap = CommandMap.Sentinel;
                options.AbortOnConnectFail = true;
                options.ConnectTimeout = 1000;
                await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
                await connection.GetServer(sentinel.Address).PingAsync();
                return sentinel;
            }
            catch (RedisConnectionException) when (watch.Elapsed < StartTimeout && !process.HasExited)
            {
                await Task.Delay(100);
            }
            catch
            {
                sentinel.Dispose();
                throw;
            }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, true);
        }
        catch (IOException)
        {
        }
    }
}
