namespace MassTransit.RedisStreams.Transport;

using System.Collections.Generic;
using System.Threading.Tasks;
using StackExchange.Redis;
using Transports;

sealed class RedisStreamsDeadLetterTransport :
    RedisStreamsMoveTransport,
    IDeadLetterTransport
{
    public RedisStreamsDeadLetterTransport(RedisStreamsBroker broker, RedisKey destination)
        : base(broker, destination)
    {
    }

    public Task Send(ReceiveContext context, string reason)
    {
        return Move(context, [new KeyValuePair<string, object>(MessageHeaders.Reason, reason ?? "Unspecified")]);
    }
}
