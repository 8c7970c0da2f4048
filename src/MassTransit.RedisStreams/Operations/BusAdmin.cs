namespace MassTransit.RedisStreams.Operations;

using System.Threading;
using System.Threading.Tasks;


/// <summary>The operations of an additional bus, registered as <see cref="IRedisStreamsAdmin{TBus}" />.</summary>
sealed class BusAdmin<TBus> :
    IRedisStreamsAdmin<TBus>
    where TBus : class, IBus
{
    readonly IRedisStreamsAdmin _admin;

    public BusAdmin(IRedisStreamsAdmin admin)
    {
        _admin = admin;
    }

    public Task<long> Requeue(string queueName, RedisStreamsRequeueSource source = RedisStreamsRequeueSource.Error, int? limit = null,
        CancellationToken cancellationToken = default) => _admin.Requeue(queueName, source, limit, cancellationToken);

    public Task<RedisStreamsTrimReport> Trim(CancellationToken cancellationToken = default) => _admin.Trim(cancellationToken);
}
