using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace MassTransit.RedisStreams.Tests.Infrastructure;

/// <summary>
/// A private <c>redis-server</c> child process with its own port and data directory, so a test can
/// kill it, stop it or restart it without disturbing any other test.
/// </summary>
public sealed class RedisServerProcess : IDisposable
{
    const string ExecutableName = "redis-server";
    const int LogTailLineCount = 30;

    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);
    static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);
    static readonly TimeSpan PingSocketTimeout = TimeSpan.FromSeconds(1);
    static readonly string[] AppendFsyncPolicies = ["always", "everysec", "no"];

    readonly object _sync = new();
    readonly string _executable;
    readonly string _configFile;
    readonly string _logFile;
    readonly List<string> _stderr = [];

    Process? _process;
    bool _disposed;

    readonly string[] _extraConfig;

    RedisServerProcess(string executable, string dataDirectory, int port, bool appendOnly, string appendFsync, string[] extraConfig)
    {
        _extraConfig = extraConfig;
        _executable = executable;
        DataDirectory = dataDirectory;
        Port = port;
        AppendOnly = appendOnly;
        AppendFsync = appendFsync;
        _configFile = Path.Combine(dataDirectory, "redis.conf");
        _logFile = Path.Combine(dataDirectory, "redis.log");
    }

    /// <summary>The TCP port on 127.0.0.1; it stays the same across <see cref="Restart"/>.</summary>
    public int Port { get; }

    /// <summary>A StackExchange.Redis configuration string for this server.</summary>
    public string ConnectionString => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>The temp directory holding the config, the log and the AOF files.</summary>
    public string DataDirectory { get; }

    /// <summary>Whether the server writes an append-only file, so data survives a restart.</summary>
    public bool AppendOnly { get; }

    /// <summary>The <c>appendfsync</c> policy: <c>always</c>, <c>everysec</c> or <c>no</c>.</summary>
    public string AppendFsync { get; }

    /// <summary>Whether the redis-server process is alive right now.</summary>
    public bool IsRunning
    {
        get
        {
            lock (_sync)
            {
                return _process is { HasExited: false };
            }
        }
    }

    /// <summary>Whether a <c>redis-server</c> executable is on PATH.</summary>
    public static bool IsAvailable => FindExecutable() is not null;

    /// <summary>The full path of the first <c>redis-server</c> on PATH, or null.</summary>
    public static string? FindExecutable()
    {
        var path = Environment.GetEnvironmentVariable("PATH");
        if (string.IsNullOrEmpty(path))
            return null;

        var names = OperatingSystem.IsWindows() ? new[] { ExecutableName + ".exe" } : new[] { ExecutableName };
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in names)
            {
                var candidate = Path.Combine(directory.Trim(), name);
                if (File.Exists(candidate))
                    return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// Starts a private redis-server on a free port of 127.0.0.1 in a new temp directory and returns once it answers PING.
    /// </summary>
    /// <param name="appendOnly">Write an append-only file so data survives <see cref="Kill"/> and <see cref="Restart"/>.</param>
    /// <param name="appendFsync">The <c>appendfsync</c> policy: <c>always</c>, <c>everysec</c> or <c>no</c>.</param>
    /// <param name="extraConfig">More lines for the server's config file, e.g. <c>cluster-enabled yes</c>.</param>
    public static RedisServerProcess Start(bool appendOnly = true, string appendFsync = "everysec", params string[] extraConfig)
    {
        ArgumentNullException.ThrowIfNull(appendFsync);
        if (!AppendFsyncPolicies.Contains(appendFsync, StringComparer.Ordinal))
            throw new ArgumentOutOfRangeException(nameof(appendFsync), appendFsync, "Use always, everysec or no.");

        var executable = FindExecutable()
            ?? throw new InvalidOperationException(
                "redis-server is not on PATH (Debian/Ubuntu: sudo apt-get install -y redis-server).");

        var dataDirectory = Path.Combine(Path.GetTempPath(), "mt-redis-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);

        try
        {
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                // The free port is only reserved until the probe listener stops, so another process can
                // take it before redis-server binds; a fresh port is then the cheapest way out.
                var server = new RedisServerProcess(executable, dataDirectory, FindFreePort(), appendOnly, appendFsync, extraConfig);
                server.WriteConfig();
                if (server.Launch(deadline) == LaunchResult.Started)
                    return server;

                if (deadline.Elapsed > StartTimeout)
                    throw new InvalidOperationException($"No free port for redis-server within {StartTimeout.TotalSeconds:0} s.");
            }
        }
        catch
        {
            DeleteDirectory(dataDirectory);
            throw;
        }
    }

    /// <summary>Kills the server with SIGKILL, as a crash would, and waits until it is gone.</summary>
    public void Kill()
    {
        lock (_sync)
        {
            KillCore();
        }
    }

    /// <summary>
    /// Stops the server with SIGTERM, which lets it flush the append-only file, and waits until it is gone.
    /// </summary>
    public void StopGracefully()
    {
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            StopGracefullyCore();
        }
    }

    /// <summary>
    /// Starts redis-server again on the same port and in the same directory, so it reloads its append-only file,
    /// and returns once it answers PING. A server that is still running is stopped gracefully first.
    /// </summary>
    public void Restart()
    {
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            StopGracefullyCore();

            var deadline = Stopwatch.StartNew();
            while (Launch(deadline) == LaunchResult.PortBusy)
            {
                if (deadline.Elapsed > StartTimeout)
                {
                    throw new InvalidOperationException(
                        $"Port {Port} stayed busy for {StartTimeout.TotalSeconds:0} s; redis-server could not restart on it.");
                }

                Thread.Sleep(PollInterval);
            }
        }
    }

    /// <summary>Kills the server and deletes its temp directory.</summary>
    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed)
                return;

            _disposed = true;
            KillCore();
            DeleteDirectory(DataDirectory);
        }
    }

    public override string ToString() => $"redis-server {ConnectionString} in {DataDirectory}";

    enum LaunchResult
    {
        Started,
        PortBusy,
    }

    LaunchResult Launch(Stopwatch deadline)
    {
        var logOffset = File.Exists(_logFile) ? new FileInfo(_logFile).Length : 0;
        lock (_stderr)
        {
            _stderr.Clear();
        }

        var startInfo = new ProcessStartInfo(_executable)
        {
            UseShellExecute = false,
            WorkingDirectory = DataDirectory,

            // Inheriting the test host's stdout would let a leftover server hold the runner's pipe open;
            // stderr is kept because redis-server reports config errors there before its log file is open.
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add(_configFile);

        var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;

            lock (_stderr)
            {
                _stderr.Add(e.Data);
            }
        };

        if (!process.Start())
        {
            process.Dispose();
            throw new InvalidOperationException($"Could not start {_executable}.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        while (true)
        {
            if (process.HasExited)
            {
                process.WaitForExit();
                var exitCode = process.ExitCode;
                _process = null;
                process.Dispose();

                var log = ReadLogTail(logOffset);
                if (IsPortBusy(log))
                    return LaunchResult.PortBusy;

                throw new InvalidOperationException(
                    $"redis-server on port {Port} exited with code {exitCode} before answering PING.{Environment.NewLine}{DescribeOutput(log)}");
            }

            if (Ping(Port))
                return LaunchResult.Started;

            if (deadline.Elapsed > StartTimeout)
            {
                KillCore();

                // A server caught between failing to bind and exiting is a busy port, which the caller reports better.
                var log = ReadLogTail(logOffset);
                if (IsPortBusy(log))
                    return LaunchResult.PortBusy;

                throw new TimeoutException(
                    $"redis-server on port {Port} did not answer PING within {StartTimeout.TotalSeconds:0} s.{Environment.NewLine}{DescribeOutput(log)}");
            }

            Thread.Sleep(PollInterval);
        }
    }

    void KillCore()
    {
        var process = _process;
        if (process is null)
            return;

        _process = null;
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // The process exited on its own between the check and the kill; there is nothing left to kill.
        }

        process.WaitForExit();
        process.Dispose();
    }

    void StopGracefullyCore()
    {
        var process = _process;
        if (process is null)
            return;

        if (!process.HasExited)
        {
            var startInfo = new ProcessStartInfo("kill") { UseShellExecute = false };
            startInfo.ArgumentList.Add("-TERM");
            startInfo.ArgumentList.Add(process.Id.ToString(CultureInfo.InvariantCulture));
            using (var kill = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not run kill."))
            {
                kill.WaitForExit();
            }

            if (!process.WaitForExit(StopTimeout))
            {
                KillCore();
                throw new TimeoutException(
                    $"redis-server on port {Port} ignored SIGTERM for {StopTimeout.TotalSeconds:0} s and was killed.");
            }
        }

        process.WaitForExit();
        _process = null;
        process.Dispose();
    }

    void WriteConfig()
    {
        var config = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"port {Port}")
            .AppendLine("bind 127.0.0.1")
            .AppendLine("protected-mode no")
            .AppendLine("daemonize no")
            .AppendLine(CultureInfo.InvariantCulture, $"dir {QuoteConfigValue(DataDirectory)}")
            .AppendLine(CultureInfo.InvariantCulture, $"logfile {QuoteConfigValue(_logFile)}")
            .AppendLine("save \"\"")
            .AppendLine(AppendOnly ? "appendonly yes" : "appendonly no")
            .AppendLine(CultureInfo.InvariantCulture, $"appendfsync {AppendFsync}");

        foreach (var line in _extraConfig)
            config.AppendLine(line);

        File.WriteAllText(_configFile, config.ToString());
    }

    string DescribeOutput(string logTail)
    {
        var builder = new StringBuilder();
        builder.AppendLine(CultureInfo.InvariantCulture, $"Last lines of {_logFile}:");
        builder.AppendLine(logTail.Length == 0 ? "(empty)" : logTail);

        lock (_stderr)
        {
            if (_stderr.Count > 0)
            {
                builder.AppendLine("Standard error:");
                foreach (var line in _stderr.TakeLast(LogTailLineCount))
                    builder.AppendLine(line);
            }
        }

        return builder.ToString();
    }

    string ReadLogTail(long offset)
    {
        if (!File.Exists(_logFile))
            return string.Empty;

        // Share the file for writing because a server that is shutting down may still append to it.
        using var stream = new FileStream(_logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (offset <= stream.Length)
            stream.Seek(offset, SeekOrigin.Begin);

        using var reader = new StreamReader(stream);
        var lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join(Environment.NewLine, lines.TakeLast(LogTailLineCount).Select(line => line.TrimEnd('\r')));
    }

    static bool IsPortBusy(string log) => log.Contains("Address already in use", StringComparison.Ordinal);

    static bool Ping(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.SendTimeout = (int)PingSocketTimeout.TotalMilliseconds;
            client.ReceiveTimeout = (int)PingSocketTimeout.TotalMilliseconds;
            client.Connect(IPAddress.Loopback, port);

            using var stream = client.GetStream();
            stream.Write("PING\r\n"u8);

            var buffer = new byte[256];
            var read = 0;
            while (read < buffer.Length)
            {
                var count = stream.Read(buffer, read, buffer.Length - read);
                if (count == 0)
                    break;

                read += count;
                if (buffer.AsSpan(0, read).IndexOf("\r\n"u8) >= 0)
                    break;
            }

            // A server still loading its append-only file answers -LOADING, which means "not yet".
            return buffer.AsSpan(0, read).StartsWith("+PONG"u8);
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>A port of 127.0.0.1 that was free a moment ago.</summary>
    public static int FindFreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    static string QuoteConfigValue(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    static void DeleteDirectory(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless and must not turn a passing test into a failure.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above: cleanup is best effort.
        }
    }
}
