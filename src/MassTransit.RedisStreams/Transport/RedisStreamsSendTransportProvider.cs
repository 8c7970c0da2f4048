namespace MassTransit.RedisStreams.Transport;

using System;
using System.Threading.Tasks;
using Middleware;
using Transports;


sealed class RedisStreamsSendTransportProvider :
    ISendTransportProvider,
    IPublishTransportProvider
{
    readonly RedisStreamsBroker _broker;
    readonly RedisStreamsReceiveEndpointContext _context;

    public RedisStreamsSendTransportProvider(RedisStreamsBroker broker, RedisStreamsReceiveEndpointContext context)
    {
        _broker = broker;
        _context = context;
    }

    public Uri NormalizeAddress(Uri address)
    {
        return RedisStreamsEndpointAddress.Parse(_broker.HostAddress, address).ToUri();
    }

    public Task<ISendTransport> GetSendTransport(Uri address)
    {
        var endpointAddress = RedisStreamsEndpointAddress.Parse(_broker.HostAddress, address);

        TransportLogMessages.CreateSendTransport(endpointAddress);

        return Task.FromResult<ISendTransport>(CreateSendTransport(endpointAddress));
    }

    public async Task<ISendTransport> GetPublishTransport<T>(Uri? publishAddress)
        where T : class
    {
        var topology = _context.PublishTopology.GetRedisMessageTopology<T>();

        await _broker.EnsurePublishTopology(topology).ConfigureAwait(false);

        var endpointAddress = publishAddress != null
            ? RedisStreamsEndpointAddress.Parse(_broker.HostAddress, publishAddress)
            : new RedisStreamsEndpointAddress(_broker.HostAddress, topology.EntityName, isTopic: true);

        return CreateSendTransport(endpointAddress);
    }

    SendTransport<PipeContext> CreateSendTransport(RedisStreamsEndpointAddress address)
    {
        var context = new RedisStreamsSendTransportContext(_broker, _context, address);

        return new SendTransport<PipeContext>(context);
    }
}
