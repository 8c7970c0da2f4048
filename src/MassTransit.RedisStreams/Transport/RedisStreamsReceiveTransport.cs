namespace MassTransit.RedisStreams.Transport;

using Transports;


sealed class RedisStreamsReceiveTransport :
    IReceiveTransport
{
    readonly RedisStreamsReceiveEndpointContext _context;

    public RedisStreamsReceiveTransport(RedisStreamsReceiveEndpointContext context)
    {
        _context = context;
    }

    public void Probe(ProbeContext context)
    {
        var scope = context.CreateScope("receiveTransport");
        scope.Add("type", "RedisStreams");
        scope.Set(new
        {
            Address = _context.InputAddress,
            _context.PrefetchCount,
            _context.ConcurrentMessageLimit,
            Expired = _context.ExpiredCount
        });
    }

    public ReceiveTransportHandle Start()
    {
        return new StreamReceiver(_context);
    }

    public ConnectHandle ConnectReceiveObserver(IReceiveObserver observer)
    {
        return _context.ConnectReceiveObserver(observer);
    }

    public ConnectHandle ConnectReceiveTransportObserver(IReceiveTransportObserver observer)
    {
        return _context.ConnectReceiveTransportObserver(observer);
    }

    public ConnectHandle ConnectPublishObserver(IPublishObserver observer)
    {
        return _context.ConnectPublishObserver(observer);
    }

    public ConnectHandle ConnectSendObserver(ISendObserver observer)
    {
        return _context.ConnectSendObserver(observer);
    }
}
