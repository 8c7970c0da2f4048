namespace MassTransit.RedisStreams.Tests.Contract;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;


/// <summary>How long a contract test waits for something that should happen within milliseconds.</summary>
public static class ContractTimeouts
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
}


/// <summary>
/// What consumers saw, registered as a singleton so a test can wait on it: <see cref="WaitFor" /> completes as soon as the
/// recorded items satisfy a condition, or fails after <see cref="ContractTimeouts.Wait" /> listing what was recorded.
/// </summary>
public sealed class Recorder<T>
{
    readonly List<T> _items = [];
    readonly object _lock = new();
    readonly List<(Func<IReadOnlyList<T>, bool> Condition, TaskCompletionSource Completed)> _waiters = [];

    public IReadOnlyList<T> Items
    {
        get
        {
            lock (_lock)
                return _items.ToArray();
        }
    }

    public void Add(T item)
    {
        lock (_lock)
        {
            _items.Add(item);

            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Condition(_items))
                {
                    _waiters[i].Completed.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    public Task<IReadOnlyList<T>> WaitForCount(int count) => WaitFor(x => x.Count >= count, $"{count} item(s)");

    public async Task<IReadOnlyList<T>> WaitFor(Func<IReadOnlyList<T>, bool> condition, string description)
    {
        var completed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (condition(_items))
                return _items.ToArray();

            _waiters.Add((condition, completed));
        }

        try
        {
            await completed.Task.WaitAsync(ContractTimeouts.Wait).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            var items = Items;
            throw new TimeoutException(
                $"Timed out after {ContractTimeouts.Wait} waiting for {description}; recorded {items.Count}: "
                + string.Join(", ", items.Take(20)));
        }

        return Items;
    }
}


/// <summary>Measures how many calls run at the same time.</summary>
public sealed class ConcurrencyMeter
{
    int _current;
    int _max;

    public int Max => Volatile.Read(ref _max);

    public async Task Measure(Func<Task> work)
    {
        var current = Interlocked.Increment(ref _current);

        int max;
        while (current > (max = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, current, max) != max)
        {
        }

        try
        {
            await work().ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _current);
        }
    }
}


/// <summary>
/// Counts the messages each receive endpoint received (whatever happened to them afterwards), by endpoint name: the last
/// segment of the input address.
/// </summary>
public sealed class ReceiveCounter :
    IReceiveObserver
{
    readonly ConcurrentDictionary<string, int> _received = new(StringComparer.OrdinalIgnoreCase);

    public int ReceivedBy(string endpointName) => _received.TryGetValue(endpointName, out var count) ? count : 0;

    public Task PreReceive(ReceiveContext context)
    {
        _received.AddOrUpdate(EndpointName(context.InputAddress), 1, (_, count) => count + 1);
        return Task.CompletedTask;
    }

    public Task PostReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType)
        where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception)
        where T : class => Task.CompletedTask;

    public Task ReceiveFault(ReceiveContext context, Exception exception) => Task.CompletedTask;

    static string EndpointName(Uri address) => address.AbsolutePath.TrimEnd('/').Split('/')[^1];
}
