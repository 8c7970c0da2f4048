namespace MassTransit.RedisStreams.Configuration;

using MassTransit.Configuration;


class RedisStreamsEndpointConfiguration :
    EndpointConfiguration
{
    protected RedisStreamsEndpointConfiguration(RedisStreamsTopologyConfiguration topology)
        : base(topology)
    {
        Topology = topology;
    }

    RedisStreamsEndpointConfiguration(RedisStreamsEndpointConfiguration parent, RedisStreamsTopologyConfiguration topology, bool isBusEndpoint)
        : base(parent, topology, isBusEndpoint)
    {
        Topology = topology;
    }

    public new RedisStreamsTopologyConfiguration Topology { get; }

    public RedisStreamsEndpointConfiguration CreateEndpointConfiguration(bool isBusEndpoint = false)
    {
        return new RedisStreamsEndpointConfiguration(this, new RedisStreamsTopologyConfiguration(Topology), isBusEndpoint);
    }
}
