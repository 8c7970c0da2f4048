namespace MassTransit.RedisStreams.Transport;

using System.Collections.Generic;
using System.Threading.Tasks;
using StackExchange.Redis;
using Transports;

sealed class RedisStreamsErrorTransport :
    RedisStreamsMoveTransport,
    IErrorTransport
{
    public RedisStreamsErrorTransport(RedisStreamsBusContext bus, RedisKey destination, string endpoint)
        : base(bus, destination, endpoint, "error")
    {
    }

    public Task Send(ExceptionReceiveContext context)
    {
        return Move(context, context.ExceptionHeaders.GetAll());
    }
}
