namespace MassTransit.RedisStreams.Transport;

using System.Collections.Generic;
using System.Threading.Tasks;
using StackExchange.Redis;
using Transports;

sealed class RedisStreamsDeadLetterTransport :
    RedisStreamsMoveTransport,
    IDeadLetterTransport
{
    public RedisStreamsDeadLetterTransport(RedisStreamsBusContext bus, RedisKey destination, string endpoint)
        : base(bus, destination, endpoint, "skipped")
    {
    }

    public Task Send(ReceiveContext context, string reason)
    {
        return Move(context, [new KeyValuePair<string, object>(MessageHeaders.Reason, reason ?? "Unspecified")]);
    }
}
