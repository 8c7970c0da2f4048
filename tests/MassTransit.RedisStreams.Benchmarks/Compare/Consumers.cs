namespace MassTransit.RedisStreams.Benchmarks.Compare;

using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using MassTransit.RedisStreams.Diagnostics;


/// <summary>Counts deliveries and completes when the expected number has arrived.</summary>
public sealed class Deliveries
{
    int _count;
    TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    int _expected = int.MaxValue;

    public int Count => Volatile.Read(ref _count);

    public Task Completed => _done.Task;

    /// <summary>Starts counting from zero towards <paramref name="expected" />.</summary>
    public void Expect(int expected)
    {
        _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _expected, expected);
        Interlocked.Exchange(ref _count, 0);
    }

    public void Add()
    {
        if (Interlocked.Increment(ref _count) == Volatile.Read(ref _expected))
            _done.TrySetResult();
    }
}


/// <summary>Send-to-handler latencies, by sequence number.</summary>
public sealed class LatencyRecorder
{
    TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    int _received;
    double[] _samples = [];

    public Task Completed => _done.Task;

    public double[] Samples => _samples;

    public void Expect(int count)
    {
        _samples = new double[count];
        _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _received, 0);
    }

    public void Record(int sequence, long sentTimestamp)
    {
        var samples = _samples;
        if (sequence < 0 || sequence >= samples.Length)
            return;

        samples[sequence] = Stopwatch.GetElapsedTime(sentTimestamp).TotalMilliseconds;
        if (Interlocked.Increment(ref _received) == samples.Length)
            _done.TrySetResult();
    }
}


public sealed class EventConsumer(Deliveries deliveries) :
    IConsumer<BenchEvent>
{
    public Task Consume(ConsumeContext<BenchEvent> context)
    {
        deliveries.Add();
        return Task.CompletedTask;
    }
}


public sealed class CommandConsumer(Deliveries deliveries) :
    IConsumer<BenchCommand>
{
    public Task Consume(ConsumeContext<BenchCommand> context)
    {
        deliveries.Add();
        return Task.CompletedTask;
    }
}


// Three endpoints that each receive every published BenchEvent.

public sealed class FanOutAConsumer(Deliveries deliveries) :
    IConsumer<BenchEvent>
{
    public Task Consume(ConsumeContext<BenchEvent> context)
    {
        deliveries.Add();
        return Task.CompletedTask;
    }
}


public sealed class FanOutBConsumer(Deliveries deliveries) :
    IConsumer<BenchEvent>
{
    public Task Consume(ConsumeContext<BenchEvent> context)
    {
        deliveries.Add();
        return Task.CompletedTask;
    }
}


public sealed class FanOutCConsumer(Deliveries deliveries) :
    IConsumer<BenchEvent>
{
    public Task Consume(ConsumeContext<BenchEvent> context)
    {
        deliveries.Add();
        return Task.CompletedTask;
    }
}


public sealed class LatencyConsumer(LatencyRecorder recorder) :
    IConsumer<LatencyProbe>
{
    public Task Consume(ConsumeContext<LatencyProbe> context)
    {
        LatencyTrace.Mark(LatencyStage.Consumed);
        recorder.Record(context.Message.Sequence, context.Message.SentTimestamp);
        return Task.CompletedTask;
    }
}


public sealed class EchoConsumer :
    IConsumer<BenchRequest>
{
    public Task Consume(ConsumeContext<BenchRequest> context) => context.RespondAsync(new BenchReply(context.Message.Id, context.Message.Sequence));
}


/// <summary>Consumes its queue and two event types, so an idle endpoint reads three streams.</summary>
public sealed class IdleConsumer :
    IConsumer<IdleEventA>,
    IConsumer<IdleEventB>,
    IConsumer<IdleCommand>
{
    public Task Consume(ConsumeContext<IdleEventA> context) => Task.CompletedTask;
    public Task Consume(ConsumeContext<IdleEventB> context) => Task.CompletedTask;
    public Task Consume(ConsumeContext<IdleCommand> context) => Task.CompletedTask;
}
