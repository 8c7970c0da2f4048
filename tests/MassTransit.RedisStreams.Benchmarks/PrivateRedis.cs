namespace MassTransit.RedisStreams.Benchmarks;

using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;


/// <summary>A redis-server of the benchmark's own, on a free port, for when REDIS_CONNECTION is not set.</summary>
sealed class PrivateRedis :
    IDisposable
{
    readonly string _directory;
    readonly Process _process;

    PrivateRedis(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        ConnectionString = $"127.0.0.1:{port}";
    }

    public string ConnectionString { get; }

    /// <summary>A free port of 127.0.0.1, a moment ago.</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Starts a redis-server; <paramref name="appendOnly" /> turns on AOF with <c>appendfsync everysec</c>.</summary>
    /// <param name="appendOnly">Whether to write an append-only file.</param>
    /// <param name="extraArguments">More <c>--name value</c> arguments for redis-server, e.g. to enable cluster mode.</param>
    public static PrivateRedis Start(bool appendOnly, string extraArguments = "")
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var directory = Path.Combine(Path.GetTempPath(), "mt-redis-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);

        var process = Process.Start(new ProcessStartInfo("redis-server",
            $"--port {port} --bind 127.0.0.1 --dir {directory} --save \"\" --appendonly {(appendOnly ? "yes --appendfsync everysec" : "no")} "
            + "--protected-mode no --logfile redis.log " + extraArguments)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true
        }) ?? throw new InvalidOperationException("redis-server did not start; install it (apt-get install redis-server) or set REDIS_CONNECTION.");

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient("127.0.0.1", port);
                return new PrivateRedis(process, directory, port);
            }
            catch (SocketException)
            {
                Thread.Sleep(20);
            }
        }

        process.Kill();
        throw new InvalidOperationException("redis-server did not answer within 10 seconds");
    }

    public void Dispose()
    {
        try
        {
            _process.Kill(true);
            _process.WaitForExit();
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        Directory.Delete(_directory, true);
    }
}
