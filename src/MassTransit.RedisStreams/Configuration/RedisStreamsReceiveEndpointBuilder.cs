namespace MassTransit.RedisStreams.Configuration;

using MassTransit.Configuration;
using Transport;


sealed class RedisStreamsReceiveEndpointBuilder :
    ReceiveEndpointBuilder
{
    readonly RedisStreamsReceiveEndpointConfiguration _configuration;
    readonly RedisStreamsHostConfiguration _hostConfiguration;

    public RedisStreamsReceiveEndpointBuilder(RedisStreamsHostConfiguration hostConfiguration, RedisStreamsReceiveEndpointConfiguration configuration)
        : base(configuration)
    {
        _hostConfiguration = hostConfiguration;
        _configuration = configuration;
    }

    public override ConnectHandle ConnectConsumePipe<T>(IPipe<ConsumeContext<T>> pipe, ConnectPipeOptions options)
    {
        if (_configuration.ConfigureConsumeTopology && options.HasFlag(ConnectPipeOptions.ConfigureConsumeTopology))
            _configuration.TopologyConfiguration.Consume.SubscribeIfConfigured<T>();

        return base.ConnectConsumePipe(pipe, options);
    }

    public RedisStreamsReceiveEndpointContext CreateReceiveEndpointContext()
    {
        return new RedisStreamsReceiveEndpointContext(_hostConfiguration, _configuration);
    }
}
