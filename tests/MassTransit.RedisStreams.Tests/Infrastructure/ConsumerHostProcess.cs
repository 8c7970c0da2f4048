namespace MassTransit.RedisStreams.Tests.Infrastructure;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;


/// <summary>
/// A consumer process (tests/MassTransit.RedisStreams.TestHost) that a fault-injection test starts, kills with SIGKILL or
/// stops with SIGTERM. It consumes Work messages from queue:{queue} and counts each handling in Redis.
/// </summary>
public sealed class ConsumerHostProcess :
    IDisposable
{
    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    readonly ConcurrentQueue<string> _output = new();
    readonly Process _process;
    readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    ConsumerHostProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == null)
                return;

            _output.Enqueue(e.Data);
            if (e.Data.StartsWith("ready ", StringComparison.Ordinal))
                _ready.TrySetResult(e.Data.Split(' ')[2]);
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data != null)
                _output.Enqueue(e.Data);
        };
        _process.EnableRaisingEvents = true;
        _process.Exited += (_, _) =>
        {
            // Wait for the end of its output first, so that a "ready" it printed just before exiting still counts and the
            // error carries what it said last.
            _process.WaitForExit();
            _ready.TrySetException(new InvalidOperationException("The consumer host exited before it was ready:\n" + Output));
        };
    }

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public string Output => string.Join('\n', _output.TakeLast(40));

    /// <summary>Every line the host printed so far.</summary>
    public IReadOnlyList<string> Lines => _output.ToArray();

    /// <summary>Starts a consumer host and waits until its bus has started; returns its bus address.</summary>
    public static Task<ConsumerHostProcess> Start(string redis, string prefix, params (string Name, object Value)[] options)
    {
        return Start(null, redis, prefix, options);
    }

    /// <summary>
    /// Starts a consumer host inside <paramref name="network" /> (when given), so that a test can cut it off from Redis, and
    /// waits until its bus has started.
    /// </summary>
    public static async Task<ConsumerHostProcess> Start(NetworkNamespace? network, string redis, string prefix, params (string Name, object Value)[] options)
    {
        var host = Path.Combine(AppContext.BaseDirectory, "MassTransit.RedisStreams.TestHost.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true
        };
        start.ArgumentList.Add(host);
        start.ArgumentList.Add("--redis");
        start.ArgumentList.Add(redis);
        start.ArgumentList.Add("--prefix");
        start.ArgumentList.Add(prefix);
        foreach (var (name, value) in options)
        {
            start.ArgumentList.Add("--" + name);
            start.ArgumentList.Add(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!);
        }

        if (network != null)
            start = network.Wrap(start);

        var process = Process.Start(start) ?? throw new InvalidOperationException("The consumer host did not start");
        var consumer = new ConsumerHostProcess(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        consumer.BusAddress = await consumer._ready.Task.WaitAsync(StartTimeout);

        return consumer;
    }

    public string BusAddress { get; private set; } = "";

    /// <summary>kill -9: no graceful stop, nothing acknowledged or released.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);

        _process.WaitForExit();
    }

    /// <summary>SIGSTOP: the process stands still, as in a long GC pause or a frozen VM, until <see cref="Thaw" />.</summary>
    public Task Freeze() => Signal("-STOP");

    /// <summary>SIGCONT: a frozen process goes on where it stood.</summary>
    public Task Thaw() => Signal("-CONT");

    async Task Signal(string signal)
    {
        using var kill = Process.Start("kill", [signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill!.WaitForExitAsync();
        if (kill.ExitCode != 0)
            throw new InvalidOperationException($"kill {signal} {_process.Id} failed with exit code {kill.ExitCode}");
    }

    /// <summary>SIGTERM: the host stops its bus gracefully; waits until it has exited.</summary>
    public async Task Terminate(TimeSpan timeout)
    {
        if (_process.HasExited)
            return;

        try
        {
            await Signal("-TERM");
        }
        catch (InvalidOperationException) when (_process.HasExited)
        {
        }

        await _process.WaitForExitAsync().WaitAsync(timeout);
    }

    public Task WaitForExit(TimeSpan timeout) => _process.WaitForExitAsync().WaitAsync(timeout);

    public void Dispose()
    {
        try
        {
            Kill();
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
