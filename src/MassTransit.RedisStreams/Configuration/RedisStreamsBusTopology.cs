namespace MassTransit.RedisStreams.Configuration;

using MassTransit.Configuration;
using Transports;


sealed class RedisStreamsBusTopology :
    BusTopology
{
    public RedisStreamsBusTopology(IHostConfiguration hostConfiguration, ITopologyConfiguration configuration)
        : base(hostConfiguration, configuration)
    {
    }
}
