namespace MassTransit.RedisStreams.Benchmarks.Compare;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;


/// <summary>How the workloads put messages in: a fixed number in flight, or a steady rate.</summary>
public static class Load
{
    /// <summary>Runs <paramref name="action" /> <paramref name="count" /> times with at most <paramref name="inFlight" /> at once.</summary>
    public static async Task InFlight(int count, int inFlight, Func<int, Task> action)
    {
        using var gate = new SemaphoreSlim(inFlight);
        var tasks = new List<Task>(count);
        for (var i = 0; i < count; i++)
        {
            await gate.WaitAsync();
            tasks.Add(One(i));
        }

        await Task.WhenAll(tasks);

        async Task One(int i)
        {
            try
            {
                await action(i);
            }
            finally
            {
                gate.Release();
            }
        }
    }

    /// <summary>
    /// Like <see cref="InFlight" />, without keeping a task per call: what the run holds does not grow with the count, so a
    /// long run measures the process's memory and not the benchmark's. The first failure is thrown once all have finished.
    /// </summary>
    public static async Task InFlightUnkept(int count, int inFlight, Func<int, Task> action)
    {
        using var gate = new SemaphoreSlim(inFlight);
        Exception? failure = null;
        for (var i = 0; i < count && Volatile.Read(ref failure) == null; i++)
        {
            await gate.WaitAsync();
            _ = One(i);
        }

        for (var i = 0; i < inFlight; i++)
            await gate.WaitAsync();

        if (failure != null)
            ExceptionDispatchInfo.Throw(failure);

        async Task One(int i)
        {
            try
            {
                await action(i);
            }
            catch (Exception exception)
            {
                Interlocked.CompareExchange(ref failure, exception, null);
            }
            finally
            {
                gate.Release();
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="count" /> sends at <paramref name="perSecond" />, on schedule whether or not earlier ones have
    /// completed (checked every millisecond), then waits for all of them.
    /// </summary>
    public static async Task Paced(int count, int perSecond, Func<int, Task> send)
    {
        var stopwatch = Stopwatch.StartNew();
        var sends = new List<Task>(count);
        var next = 0;
        while (next < count)
        {
            var due = (int)Math.Min(count, Math.Floor(stopwatch.Elapsed.TotalSeconds * perSecond) + 1);
            while (next < due)
                sends.Add(send(next++));

            if (next < count)
                await Task.Delay(1);
        }

        await Task.WhenAll(sends);
    }

    /// <summary>The value at <paramref name="percentile" /> (0..1) of sorted values, nearest rank.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double percentile) =>
        sorted[Math.Clamp((int)Math.Ceiling(percentile * sorted.Count) - 1, 0, sorted.Count - 1)];

    public static Dictionary<string, double> Summary(IEnumerable<double> values, string suffix)
    {
        var sorted = values.Order().ToList();
        return new Dictionary<string, double>
        {
            ["p50" + suffix] = Percentile(sorted, 0.50),
            ["p95" + suffix] = Percentile(sorted, 0.95),
            ["p99" + suffix] = Percentile(sorted, 0.99),
            ["max" + suffix] = sorted[^1]
        };
    }
}
