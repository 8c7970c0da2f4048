namespace MassTransit.RedisStreams.Transport;

using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;
using Support;


/// <summary>
/// The one way an endpoint acknowledges entries (XACK): a handled message, one moved to <c>_error</c> or <c>_skipped</c>, and a
/// pending entry whose stream entry is gone all come here. Per stream, acknowledgements made while an XACK is in flight ride
/// together in the next one (<see cref="Batcher{TItem}" />), so at low load nothing waits and at high load one XACK carries many
/// IDs. A failed XACK is retried (<see cref="RedisRetry.UntilStopped" />) until it succeeds or the endpoint stops: a message
/// handled successfully must not be handled again because one XACK met a dropped connection.
/// </summary>
sealed class Acknowledger
{
    /// <summary>The most IDs in one XACK.</summary>
    const int MaxBatchCount = 1000;

    readonly IGroupReads _groups;
    readonly string _group;
    readonly CancellationToken _stopped;

    public Acknowledger(IGroupReads groups, string group, CancellationToken stopped)
    {
        _groups = groups;
        _group = group;
        _stopped = stopped;
    }

    /// <summary>Acknowledges an entry; the task completes once an XACK that includes it has succeeded.</summary>
    public Task Acknowledge(ReceiveStream stream, RedisValue id)
    {
        var batcher = stream.Acknowledgements;
        if (batcher == null)
        {
            var key = stream.Key;
            Interlocked.CompareExchange(ref stream.Acknowledgements, new Batcher<RedisValue>(ids => Send(key, ids), MaxBatchCount), null);
            batcher = stream.Acknowledgements;
        }

        return batcher!.Add(id);
    }

    /// <summary>Acknowledges several entries of one stream in one XACK.</summary>
    public Task Acknowledge(RedisKey stream, RedisValue[] ids) => Send(stream, ids);

    Task Send(RedisKey stream, IReadOnlyList<RedisValue> ids)
    {
        var batch = ids as RedisValue[] ?? [..ids];

        return RedisRetry.UntilStopped(async () =>
        {
            try
            {
                await _groups.Acknowledge(stream, _group, batch).ConfigureAwait(false);
            }
            catch (System.Exception exception) when (TransientFailures.IsRedisFailure(exception))
            {
                LogContext.Warning?.Log(exception, "XACK failed, retrying: {Stream} {Group} ({Count} entries)", stream, _group, batch.Length);
                throw;
            }
        }, _stopped);
    }
}
