namespace MassTransit.RedisStreams.Support;

using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Middleware;
using Redis;
using RetryPolicies;


/// <summary>
/// The transport's one retry policy for Redis failures that pass by themselves (a dropped connection, a server loading its
/// data or failing over, a slot on the move): MassTransit's exponential retry, from about 150 ms doubling to 2 s, each
/// interval with MassTransit's jitter, so that many instances that lost Redis together do not come back in step.
/// </summary>
/// <remarks>
/// Sends retry only what <see cref="TransientFailures.IsTransient" /> names, for up to SendTimeout (waiting
/// <see cref="RetryDelays" /> of <see cref="Transient" />); acknowledgements retry
/// any Redis failure until they succeed or the endpoint stops; the loops that never end (the read loop, the delayed message
/// pump) wait <see cref="RetryDelays" /> between attempts.
/// </remarks>
static class RedisRetry
{
    static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(50);
    static readonly TimeSpan MaxInterval = TimeSpan.FromSeconds(2);
    static readonly TimeSpan IntervalDelta = TimeSpan.FromMilliseconds(100);

    /// <summary>Retries the failures a send may outwait.</summary>
    public static readonly IRetryPolicy Transient = Create(TransientFailures.IsTransient);

    /// <summary>Retries any failure of Redis or the connection to it.</summary>
    public static readonly IRetryPolicy Failures = Create(TransientFailures.IsRedisFailure);

    static IRetryPolicy Create(Func<Exception, bool> filter)
    {
        return Retry.CreatePolicy(x =>
        {
            x.Handle<Exception>(exception => filter(exception));
            x.Exponential(int.MaxValue, MinInterval, MaxInterval, IntervalDelta);
        });
    }

    /// <summary>
    /// Runs a send-side operation, trying again through transient failures for up to <paramref name="timeout" />; then fails
    /// with <see cref="TransportUnavailableException" />, so that a message is never dropped without the caller knowing. An
    /// operation whose failure hides whether it took effect (a timeout) may take effect twice: delivery is at least once.
    /// </summary>
    /// <param name="operation">The operation; called again for each attempt.</param>
    /// <param name="timeout">How long to keep trying.</param>
    /// <param name="target">What is written to (a stream key), for the exception; formatted only when one is thrown.</param>
    /// <param name="cancellationToken">Stops the waiting between attempts.</param>
    /// <param name="started">
    /// When the first attempt started (<see cref="Stopwatch.GetTimestamp" />), for a caller that made it itself; 0 for now.
    /// </param>
    /// <param name="failure">The transient failure of that first attempt; null when there was none yet.</param>
    public static async Task<T> Send<T>(Func<Task<T>> operation, TimeSpan timeout, object target, CancellationToken cancellationToken, long started = 0,
        Exception? failure = null)
    {
        // The first attempt costs nothing extra: a send that succeeds, as nearly every one does, allocates nothing here.
        if (started == 0)
            started = Stopwatch.GetTimestamp();
        RetryDelays? delays = null;
        while (true)
        {
            if (failure == null)
            {
                try
                {
                    return await operation().ConfigureAwait(false);
                }
                catch (Exception exception) when (TransientFailures.IsTransient(exception))
                {
                    failure = exception;
                }
            }

            var left = timeout - Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                throw new TransportUnavailableException(
                    $"Redis did not accept the message for {target} within the SendTimeout of {timeout}: {failure.Message}", failure);
            }

            LogContext.Debug?.Log(failure, "Send to {Target} failed, retrying", target);

            // The last wait ends at the deadline, for one more attempt there.
            var delay = (delays ??= new RetryDelays(Transient)).Next(failure);
            failure = null;
            await Task.Delay(delay < left ? delay : left, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc cref="Send{T}" />
    public static Task Send(Func<Task> operation, TimeSpan timeout, object target, CancellationToken cancellationToken)
    {
        return Send(async () =>
        {
            await operation().ConfigureAwait(false);
            return true;
        }, timeout, target, cancellationToken);
    }

    /// <summary>
    /// Runs an operation that must not be lost to a dropped connection (an acknowledgement) until it succeeds; only
    /// <paramref name="stopping" /> gives up, with the last failure.
    /// </summary>
    public static Task UntilStopped(Func<Task> operation, CancellationToken stopping)
    {
        return Failures.Retry(operation, false, stopping);
    }
}


/// <summary>
/// The waits of a loop between its failed attempts, by a policy of <see cref="RedisRetry" /> (<see cref="RedisRetry.Failures" />
/// unless told): longer after each failure, back to the first after a success.
/// </summary>
sealed class RetryDelays
{
    readonly RetryPolicyContext<RetryPipeContext> _policy;
    RetryContext<RetryPipeContext>? _retry;

    public RetryDelays(IRetryPolicy? policy = null)
    {
        _policy = (policy ?? RedisRetry.Failures).CreatePolicyContext(new RetryPipeContext());
    }

    /// <summary>How long to wait after <paramref name="failure" />.</summary>
    public TimeSpan Next(Exception failure)
    {
        var retried = _retry == null ? _policy.CanRetry(failure, out var next) : _retry.CanRetry(failure, out next);
        _retry = retried ? next : null;

        return next?.Delay ?? TimeSpan.FromSeconds(1);
    }

    /// <summary>The next failure waits the first interval again.</summary>
    public void Reset() => _retry = null;


    sealed class RetryPipeContext() :
        BasePipeContext(CancellationToken.None);
}
