namespace MassTransit.RedisStreams.Support;

using System;
using System.Threading;
using System.Threading.Tasks;


/// <summary>
/// An auto-reset signal that can be awaited: <see cref="Set" /> wakes the current or the next waiter once. Setting it twice
/// before anyone waits wakes one waiter, once.
/// </summary>
sealed class AsyncSignal
{
    TaskCompletionSource _source = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Set()
    {
        Volatile.Read(ref _source).TrySetResult();
    }

    /// <summary>Forgets a <see cref="Set" /> no one has waited for yet.</summary>
    public void Reset()
    {
        var source = Volatile.Read(ref _source);
        if (source.Task.IsCompleted)
            Interlocked.CompareExchange(ref _source, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), source);
    }

    /// <summary>
    /// Waits until the signal is set, <paramref name="timeout" /> passes by <paramref name="time" />'s clock, or the token is
    /// canceled (which throws).
    /// </summary>
    /// <returns>True when the signal was set, false on timeout.</returns>
    public async Task<bool> Wait(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var source = Volatile.Read(ref _source);
        if (!source.Task.IsCompleted)
        {
            if (timeout <= TimeSpan.Zero)
                return false;

            try
            {
                await source.Task.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return false;
            }
        }

        // Reset only the source that was completed, so a Set that raced with this reset is not lost.
        Interlocked.CompareExchange(ref _source, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), source);
        return true;
    }
}
