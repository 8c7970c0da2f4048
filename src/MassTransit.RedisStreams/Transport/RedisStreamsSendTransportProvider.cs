namespace MassTransit.RedisStreams.Transport;

using System;
using System.Threading.Tasks;
using Middleware;
using Transports;


sealed class RedisStreamsSendTransportProvider :
    ISendTransportProvider,
    IPublishTransportProvider
{
    readonly RedisStreamsBusContext _bus;
    readonly RedisStreamsReceiveEndpointContext _context;

    public RedisStreamsSendTransportProvider(RedisStreamsBusContext bus, RedisStreamsReceiveEndpointContext context)
    {
        _bus = bus;
        _context = context;
    }

    public Uri NormalizeAddress(Uri address)
    {
        return RedisStreamsEndpointAddress.Parse(_bus.HostAddress, address).ToUri();
    }

    public Task<ISendTransport> GetSendTransport(Uri address)
    {
        var endpointAddress = RedisStreamsEndpointAddress.Parse(_bus.HostAddress, address);

        TransportLogMessages.CreateSendTransport(endpointAddress);

        return Task.FromResult<ISendTransport>(CreateSendTransport(endpointAddress));
    }

    public async Task<ISendTransport> GetPublishTransport<T>(Uri? publishAddress)
        where T : class
    {
        var topology = _context.PublishTopology.GetRedisMessageTopology<T>();

        await _bus.EnsurePublishTopology(topology).ConfigureAwait(false);

        var endpointAddress = publishAddress != null
            ? RedisStreamsEndpointAddress.Parse(_bus.HostAddress, publishAddress)
            : new RedisStreamsEndpointAddress(_bus.HostAddress, topology.EntityName, AddressKind.Topic);

        return CreateSendTransport(endpointAddress);
    }

    SendTransport<PipeContext> CreateSendTransport(RedisStreamsEndpointAddress address)
    {
        var context = new RedisStreamsSendTransportContext(_bus, _context, address);

        return new SendTransport<PipeContext>(context);
    }
}
