namespace MassTransit.RedisStreams.Benchmarks.Compare;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;


/// <summary>A <see cref="Worker" /> process started by the benchmark; <see cref="Kill" /> is kill -9.</summary>
public sealed class WorkerProcess :
    IDisposable
{
    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    readonly Process _process;
    readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly List<string> _errors = [];
    int _count;

    WorkerProcess(Process process, Action<WorkerProcess, int, bool>? handled)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            var line = e.Data;
            if (line == null)
                return;

            if (line == "ready")
                _ready.TrySetResult();
            else if (line.StartsWith("h ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                handled?.Invoke(this, int.Parse(parts[1], CultureInfo.InvariantCulture), parts[2] == "1");
            }
            else if (line.StartsWith("c ", StringComparison.Ordinal))
                Volatile.Write(ref _count, int.Parse(line[2..], CultureInfo.InvariantCulture));
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data != null)
                lock (_errors)
                    _errors.Add(e.Data);
        };
        _process.EnableRaisingEvents = true;
        _process.Exited += (_, _) => _ready.TrySetException(new InvalidOperationException("The worker exited before it was ready: " + Errors));
    }

    /// <summary>The last count a <c>--report count</c> worker wrote.</summary>
    public int Count => Volatile.Read(ref _count);

    string Errors
    {
        get
        {
            lock (_errors)
                return string.Join(" | ", _errors);
        }
    }

    /// <summary>Starts a worker and waits until its bus has started.</summary>
    public static async Task<WorkerProcess> Start(IEnumerable<string> arguments, Action<WorkerProcess, int, bool>? handled = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true
        };
        start.ArgumentList.Add(Path.ChangeExtension(typeof(Worker).Assembly.Location, ".dll"));
        start.ArgumentList.Add(Worker.Mode);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);

        var worker = new WorkerProcess(Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start"), handled);
        worker._process.BeginOutputReadLine();
        worker._process.BeginErrorReadLine();
        try
        {
            await worker._ready.Task.WaitAsync(StartTimeout);
        }
        catch
        {
            worker.Dispose();
            throw;
        }

        return worker;
    }

    /// <summary>kill -9: nothing is acknowledged or released.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>Closes its stdin, which stops it gracefully, and waits a little; kills it if it is still there.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close();
                if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
                    Kill();
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (IOException)
        {
        }

        _process.Dispose();
    }
}
