namespace MassTransit.RedisStreams.Tests.Infrastructure;

using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;


/// <summary>
/// Counts what a set of consumers received, per key, and lets a test wait until a number of distinct keys has arrived.
/// </summary>
public sealed class DeliveryLog
{
    readonly ConcurrentDictionary<string, int> _counts = new();
    readonly ConcurrentQueue<string> _order = new();
    int _total;
    TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Total => Volatile.Read(ref _total);
    public int Distinct => _counts.Count;

    public void Record(string key)
    {
        _counts.AddOrUpdate(key, 1, (_, n) => n + 1);
        _order.Enqueue(key);
        Interlocked.Increment(ref _total);
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    public int CountOf(string key) => _counts.TryGetValue(key, out var count) ? count : 0;

    public int Duplicates
    {
        get
        {
            var duplicates = 0;
            foreach (var count in _counts.Values)
                duplicates += count - 1;
            return duplicates;
        }
    }

    /// <summary>Waits until at least <paramref name="distinct" /> different keys arrived; false on timeout.</summary>
    public async Task<bool> WaitForDistinct(int distinct, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Distinct < distinct)
        {
            var changed = Volatile.Read(ref _changed).Task;
            if (Distinct >= distinct)
                break;

            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
                return false;

            try
            {
                await changed.WaitAsync(remaining);
            }
            catch (TimeoutException)
            {
                return Distinct >= distinct;
            }
        }

        return true;
    }
}
