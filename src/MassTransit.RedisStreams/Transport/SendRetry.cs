namespace MassTransit.RedisStreams.Transport;

using System;
using System.Threading;
using System.Threading.Tasks;
using Redis;


/// <summary>
/// Runs a send-side Redis operation, trying again through connection failures and a restarting server for up to
/// SendTimeout; then fails with an exception, so that a message is never dropped without the caller knowing. An operation
/// whose failure hides whether it took effect (a timeout) may take effect twice: delivery is at least once.
/// </summary>
static class SendRetry
{
    /// <param name="operation">The operation; called again for each attempt.</param>
    /// <param name="timeout">How long to keep trying.</param>
    /// <param name="target">What is written to (a stream key), for the exception; formatted only when one is thrown.</param>
    /// <param name="cancellationToken">Stops the waiting between attempts.</param>
    public static async Task<T> Run<T>(Func<Task<T>> operation, TimeSpan timeout, object target, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        var backoff = new Backoff(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1));

        while (true)
        {
            try
            {
                return await operation().ConfigureAwait(false);
            }
            catch (Exception exception) when (TransientFailures.IsTransient(exception))
            {
                if (DateTime.UtcNow - started + backoff.Next > timeout)
                {
                    throw new TransportUnavailableException(
                        $"Redis did not accept the message for {target} within the SendTimeout of {timeout}: {exception.Message}", exception);
                }

                LogContext.Debug?.Log(exception, "Send to {Target} failed, retrying in {Delay}", target, backoff.Next);

                await backoff.Wait(cancellationToken).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    public static Task Run(Func<Task> operation, TimeSpan timeout, object target, CancellationToken cancellationToken)
    {
        return Run(async () =>
        {
            await operation().ConfigureAwait(false);
            return true;
        }, timeout, target, cancellationToken);
    }
}
