namespace MassTransit;

using System.Threading;
using System.Threading.Tasks;


/// <summary>
/// Operations on the streams of a Redis Streams bus that an operator or an application runs by hand. With
/// <c>UsingRedisStreams</c> it is registered in the container, bound to the bus's connection and key prefix
/// (<see cref="IRedisStreamsAdmin{TBus}" /> for an additional bus); without a container, create a
/// <see cref="RedisStreamsAdmin" />.
/// </summary>
public interface IRedisStreamsAdmin
{
    /// <summary>
    /// Sends the entries of an endpoint's error (<c>queue:{name}_error</c>) or skipped (<c>queue:{name}_skipped</c>) stream
    /// back to its queue stream, oldest first, each without the headers the move added (<c>MT-Reason</c>, <c>MT-Fault-*</c>
    /// but the message's own <c>MT-Fault-Address</c>, <c>MT-Host-*</c>, <c>MT-Redis-Source-*</c>), and removes each from where
    /// it was once it is back in the queue. An interrupted call may leave an entry in both streams, never in neither.
    /// </summary>
    /// <param name="queueName">The receive endpoint's name, e.g. <c>submit-order</c>.</param>
    /// <param name="source">Which stream to take the entries from.</param>
    /// <param name="limit">The most entries to move; all when null.</param>
    /// <param name="cancellationToken">Stops between batches of entries.</param>
    /// <returns>The number of entries moved.</returns>
    Task<long> Requeue(string queueName, RedisStreamsRequeueSource source = RedisStreamsRequeueSource.Error, int? limit = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Trims every stream of the bus now by its retention policy (see <see cref="IRedisStreamsBusFactoryConfigurator.Retention" />),
    /// as the background pass does, never removing an entry a consumer group still needs; and removes the groups that
    /// temporary endpoints which are gone left on event streams.
    /// </summary>
    /// <param name="cancellationToken">Stops between streams.</param>
    /// <returns>What was removed, and what lagging groups kept.</returns>
    Task<RedisStreamsTrimReport> Trim(CancellationToken cancellationToken = default);
}



/// <summary>The operations of an additional bus (MultiBus) <typeparamref name="TBus" />; see <see cref="IRedisStreamsAdmin" />.</summary>
/// <typeparam name="TBus">The bus interface.</typeparam>
public interface IRedisStreamsAdmin<TBus> :
    IRedisStreamsAdmin
    where TBus : class, IBus
{
}

/// <summary>
/// The stream beside a receive endpoint's queue that <see cref="IRedisStreamsAdmin.Requeue" /> takes entries from.
/// </summary>
public enum RedisStreamsRequeueSource
{
    /// <summary><c>queue:{name}_error</c>: messages whose consumers failed after all retries.</summary>
    Error = 0,

    /// <summary><c>queue:{name}_skipped</c>: messages no consumer on the endpoint wanted.</summary>
    Skipped = 1
}
