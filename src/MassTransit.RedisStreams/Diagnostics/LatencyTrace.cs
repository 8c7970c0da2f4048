namespace MassTransit.RedisStreams.Diagnostics;

using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;


/// <summary>The points along one message's way from a send to its handler that <see cref="LatencyTrace" /> marks.</summary>
enum LatencyStage
{
    SendCalled,
    TransportSend,
    Serialized,
    Appending,
    ScriptSent,
    ScriptReplied,
    AppendCompleted,
    SendReturned,
    WakeReceived,
    ReaderWoken,
    ReadSent,
    ReadReplied,
    Queued,
    Taken,
    Dispatching,
    Consumed
}


/// <summary>
/// A measurement aid: when the environment variable <c>REDIS_STREAMS_LATENCY_TRACE</c> names a file, each <see cref="Mark(LatencyStage)" />
/// records a stage and a <see cref="Stopwatch" /> timestamp (with the thread) in a fixed array, written to that file as CSV
/// when the process exits. Off, a mark costs one static read. Meant for one message at a time at a low rate, where the marks
/// of one message follow each other; the benchmark's latency workload reads the file back.
/// </summary>
static class LatencyTrace
{
    const int Capacity = 1 << 20;

    static readonly string? Path = Environment.GetEnvironmentVariable("REDIS_STREAMS_LATENCY_TRACE");
    static readonly long[]? Marks = string.IsNullOrEmpty(Path) ? null : new long[Capacity * 2];
    static int _count;

    static LatencyTrace()
    {
        if (Marks != null)
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Write();
    }

    public static bool Enabled => Marks != null;

    public static void Mark(LatencyStage stage)
    {
        if (Marks != null)
            Mark(stage, Stopwatch.GetTimestamp());
    }

    public static void Mark(LatencyStage stage, long timestamp)
    {
        var marks = Marks;
        if (marks == null)
            return;

        var index = Interlocked.Increment(ref _count) - 1;
        if (index >= Capacity)
            return;

        marks[index * 2] = timestamp;
        marks[index * 2 + 1] = (long)stage | (long)Environment.CurrentManagedThreadId << 8 | (Thread.CurrentThread.IsThreadPoolThread ? 1L << 40 : 0);
    }

    static void Write()
    {
        var marks = Marks!;
        var count = Math.Min(Volatile.Read(ref _count), Capacity);
        var text = new StringBuilder(count * 32);
        text.Append("timestamp,stage,thread,pool,frequency=").Append(Stopwatch.Frequency).Append('\n');
        for (var i = 0; i < count; i++)
        {
            var info = marks[i * 2 + 1];
            text.Append(marks[i * 2].ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(((LatencyStage)(info & 0xFF)).ToString()).Append(',')
                .Append(((info >> 8) & 0xFFFFFFFF).ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append((info >> 40) & 1).Append('\n');
        }

        File.WriteAllText(Path!, text.ToString());
    }
}
