namespace MassTransit.RedisStreams.Benchmarks.Compare.Brokers;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;


/// <summary>
/// The RabbitMQ the RabbitMQ runs use: RABBITMQ_HOST, a server answering on localhost:5672, or a private rabbitmq-server
/// (its own node name, port, data and log directories, no plugins) that is stopped at the end. Between runs the queues and
/// exchanges a run declared are deleted.
/// </summary>
public sealed class RabbitBroker :
    IAsyncDisposable
{
    const string ServerScript = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    const string ControlScript = "/usr/lib/rabbitmq/bin/rabbitmqctl";
    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    readonly string? _directory;
    readonly Dictionary<string, string> _environment;
    readonly string? _node;
    readonly Process? _process;

    RabbitBroker(Uri address, string version, Process? process, string? node, string? directory, Dictionary<string, string> environment)
    {
        Address = address;
        Version = version;
        _process = process;
        _node = node;
        _directory = directory;
        _environment = environment;
    }

    /// <summary>The broker's address, rabbitmq://host:port/ or the amqp:// URI given.</summary>
    public Uri Address { get; }

    public string Version { get; }

    /// <summary>Finds or starts a server; returns the reason instead when there is none.</summary>
    public static async Task<(RabbitBroker? Broker, string? Reason)> Find(TextWriter log)
    {
        var configured = Environment.GetEnvironmentVariable("RABBITMQ_HOST");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            var address = ToAddress(configured.Trim());
            try
            {
                return (new RabbitBroker(address, await GetVersion(address), null, null, null, new()), null);
            }
            catch (BrokerUnreachableException exception)
            {
                return (null, $"RABBITMQ_HOST={configured} does not answer: {exception.Message}");
            }
        }

        var local = new Uri("rabbitmq://127.0.0.1:5672/");
        if (Answers(5672))
        {
            try
            {
                return (new RabbitBroker(local, await GetVersion(local), null, null, null, new()), null);
            }
            catch (BrokerUnreachableException)
            {
                // Something else listens on 5672, or guest is refused: start a private server instead.
            }
        }

        if (!File.Exists(ServerScript))
            return (null, "rabbitmq-server is not installed (apt-get install -y rabbitmq-server) and RABBITMQ_HOST is not set");

        log.WriteLine("starting a private rabbitmq-server ...");
        return await StartPrivate();
    }

    /// <summary>How many messages wait in a queue (ready, not counting those delivered and unacknowledged).</summary>
    public async Task<uint> MessageCount(string queue)
    {
        await using var connection = await Factory(Address).CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        return await channel.MessageCountAsync(queue);
    }

    /// <summary>Deletes queues and exchanges by name; names that do not exist are skipped.</summary>
    public async Task Delete(IEnumerable<string> queues, IEnumerable<string> exchanges)
    {
        await using var connection = await Factory(Address).CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        try
        {
            foreach (var queue in queues.Distinct())
                channel = await Try(connection, channel, x => x.QueueDeleteAsync(queue));
            foreach (var exchange in exchanges.Distinct())
                channel = await Try(connection, channel, x => x.ExchangeDeleteAsync(exchange));
        }
        finally
        {
            await channel.DisposeAsync();
        }

        static async Task<IChannel> Try(IConnection connection, IChannel channel, Func<IChannel, Task> action)
        {
            try
            {
                await action(channel);
                return channel;
            }
            catch (OperationInterruptedException)
            {
                // A failed delete closes the channel.
                await channel.DisposeAsync();
                return await connection.CreateChannelAsync();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process == null)
            return;

        try
        {
            using var stop = Process.Start(ControlStart("-n", _node!, "stop"));
            if (stop != null)
                await stop.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception exception) when (exception is TimeoutException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }

        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);

        _process.Dispose();
        try
        {
            Directory.Delete(_directory!, true);
        }
        catch (IOException)
        {
        }
    }

    ProcessStartInfo ControlStart(params string[] arguments)
    {
        var start = new ProcessStartInfo(ControlScript) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (name, value) in _environment)
            start.Environment[name] = value;
        return start;
    }

    static async Task<(RabbitBroker? Broker, string? Reason)> StartPrivate()
    {
        var port = FreePort();
        var distributionPort = FreePort();
        var node = $"bench-{Environment.ProcessId}@localhost";
        var directory = Path.Combine(Path.GetTempPath(), "mt-rabbit-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);

        File.WriteAllText(Path.Combine(directory, "enabled_plugins"), "[].");
        File.WriteAllText(Path.Combine(directory, "rabbitmq.conf"), $"listeners.tcp.default = {port}\nloopback_users = none\n");
        File.WriteAllText(Path.Combine(directory, "rabbitmq-env.conf"), "");

        var environment = new Dictionary<string, string>
        {
            ["HOME"] = directory, // the Erlang cookie
            ["RABBITMQ_NODENAME"] = node,
            ["RABBITMQ_NODE_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RABBITMQ_DIST_PORT"] = distributionPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(directory, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(directory, "log"),
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(directory, "rabbitmq.conf"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(directory, "enabled_plugins"),
            ["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(directory, "rabbitmq-env.conf"),
            ["RABBITMQ_PID_FILE"] = Path.Combine(directory, "rabbitmq.pid")
        };

        var start = new ProcessStartInfo(ServerScript)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory
        };
        foreach (var (name, value) in environment)
            start.Environment[name] = value;

        var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var address = new Uri($"rabbitmq://127.0.0.1:{port}/");
        var broker = new RabbitBroker(address, "", process, node, directory, environment);
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < StartTimeout && !process.HasExited)
        {
            if (Answers(port))
            {
                try
                {
                    return (new RabbitBroker(address, await GetVersion(address), process, node, directory, environment), null);
                }
                catch (BrokerUnreachableException)
                {
                    // Listening, not yet accepting.
                }
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMilliseconds(500)).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        string log;
        lock (output)
            log = output.ToString();
        await broker.DisposeAsync();
        return (null, "the private rabbitmq-server did not start: " + string.Join(" ", log.Split('\n').TakeLast(5)).Trim());
    }

    static async Task<string> GetVersion(Uri address)
    {
        await using var connection = await Factory(address).CreateConnectionAsync();
        return connection.ServerProperties != null && connection.ServerProperties.TryGetValue("version", out var version) && version is byte[] bytes
            ? Encoding.UTF8.GetString(bytes)
            : "unknown";
    }

    static ConnectionFactory Factory(Uri address)
    {
        if (address.Scheme is "amqp" or "amqps")
            return new ConnectionFactory { Uri = address };

        return new ConnectionFactory { HostName = address.Host, Port = address.Port, UserName = "guest", Password = "guest" };
    }

    static Uri ToAddress(string configured)
    {
        if (configured.Contains("://", StringComparison.Ordinal))
            return new Uri(configured);

        var parts = configured.Split(':');
        return new Uri($"rabbitmq://{parts[0]}:{(parts.Length > 1 ? parts[1] : "5672")}/");
    }

    static bool Answers(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
