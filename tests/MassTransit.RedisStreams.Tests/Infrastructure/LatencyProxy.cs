namespace MassTransit.RedisStreams.Tests.Infrastructure;

using System;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// A TCP proxy in front of a Redis server that delays every byte by <see cref="OneWayDelay" /> in each direction, as a
/// network of that latency would, without holding back what follows: pipelined commands stay pipelined. A client that
/// waits for each reply before its next command pays the round trip every time, so the time of an operation through the
/// proxy tells how many round trips it waits for one after the other.
/// </summary>
public sealed class LatencyProxy :
    IAsyncDisposable
{
    readonly CancellationTokenSource _stopping = new();
    readonly TcpListener _listener;
    readonly Task _accepting;
    readonly EndPoint _target;
    readonly string _options;

    /// <param name="redisConnection">The server's connection string; its first endpoint is proxied, its options kept.</param>
    /// <param name="oneWayDelay">The delay in each direction.</param>
    public LatencyProxy(string redisConnection, TimeSpan oneWayDelay)
    {
        var options = ConfigurationOptions.Parse(redisConnection);
        _target = options.EndPoints[0];
        options.EndPoints.Clear();
        _options = options.ToString(includePassword: true);
        OneWayDelay = oneWayDelay;

        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accepting = Task.Run(Accept);
    }

    public TimeSpan OneWayDelay { get; }

    /// <summary>The time a command and its reply take through the proxy, beyond what Redis takes.</summary>
    public TimeSpan RoundTrip => OneWayDelay * 2;

    /// <summary>The connection string through the proxy, with the server's options.</summary>
    public string ConnectionString =>
        "127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture) + (_options.Length > 0 ? "," + _options : "");

    async Task Accept()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => Serve(client));
        }
    }

    async Task Serve(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            client.NoDelay = true;
            server.NoDelay = true;
            try
            {
                if (_target is DnsEndPoint dns)
                    await server.ConnectAsync(dns.Host, dns.Port, _stopping.Token);
                else
                    await server.ConnectAsync((IPEndPoint)_target, _stopping.Token);
                using var connection = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                var up = Pump(client.GetStream(), server.GetStream(), connection.Token);
                var down = Pump(server.GetStream(), client.GetStream(), connection.Token);
                await Task.WhenAny(up, down);
                await connection.CancelAsync();
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>Reads from one side and writes each chunk to the other once it is <see cref="OneWayDelay" /> old.</summary>
    async Task Pump(NetworkStream from, NetworkStream to, CancellationToken cancellationToken)
    {
        var chunks = Channel.CreateUnbounded<(long Due, byte[] Bytes)>();

        async Task Read()
        {
            var buffer = new byte[64 * 1024];
            try
            {
                int read;
                while ((read = await from.ReadAsync(buffer, cancellationToken)) > 0)
                    await chunks.Writer.WriteAsync((Stopwatch.GetTimestamp() + (long)(OneWayDelay.TotalSeconds * Stopwatch.Frequency), buffer[..read]), cancellationToken);
            }
            catch (Exception exception) when (exception is OperationCanceledException or System.IO.IOException or ObjectDisposedException)
            {
            }
            finally
            {
                chunks.Writer.TryComplete();
            }
        }

        async Task Write()
        {
            try
            {
                await foreach (var (due, bytes) in chunks.Reader.ReadAllAsync(cancellationToken))
                {
                    var wait = TimeSpan.FromSeconds((due - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
                    if (wait > TimeSpan.Zero)
                        await Task.Delay(wait, cancellationToken);

                    await to.WriteAsync(bytes, cancellationToken);
                }
            }
            catch (Exception exception) when (exception is OperationCanceledException or System.IO.IOException or ObjectDisposedException)
            {
            }
        }

        await Task.WhenAll(Read(), Write());
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stopping.Dispose();
    }
}
