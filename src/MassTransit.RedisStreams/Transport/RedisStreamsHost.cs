namespace MassTransit.RedisStreams.Transport;

using System;
using System.Threading.Tasks;
using Configuration;
using Middleware;
using Transports;


sealed class RedisStreamsHost :
    BaseHost,
    IHost<IRedisStreamsReceiveEndpointConfigurator>
{
    readonly RedisStreamsHostConfiguration _hostConfiguration;

    public RedisStreamsHost(RedisStreamsHostConfiguration hostConfiguration, RedisStreamsBusTopology busTopology)
        : base(hostConfiguration, busTopology)
    {
        _hostConfiguration = hostConfiguration;
    }

    public override HostReceiveEndpointHandle ConnectReceiveEndpoint(IEndpointDefinition definition, IEndpointNameFormatter? endpointNameFormatter,
        Action<IReceiveEndpointConfigurator>? configureEndpoint = null)
    {
        return ConnectReceiveEndpoint(definition, endpointNameFormatter, (IRedisStreamsReceiveEndpointConfigurator x) => configureEndpoint?.Invoke(x));
    }

    public HostReceiveEndpointHandle ConnectReceiveEndpoint(IEndpointDefinition definition, IEndpointNameFormatter? endpointNameFormatter,
        Action<IRedisStreamsReceiveEndpointConfigurator>? configureEndpoint = null)
    {
        var queueName = definition.GetEndpointName(endpointNameFormatter ?? DefaultEndpointNameFormatter.Instance);

        return ConnectReceiveEndpoint(queueName, configurator =>
        {
            _hostConfiguration.ApplyEndpointDefinition(configurator, definition);
            configureEndpoint?.Invoke(configurator);
        });
    }

    public override HostReceiveEndpointHandle ConnectReceiveEndpoint(string queueName, Action<IReceiveEndpointConfigurator>? configureEndpoint = null)
    {
        return ConnectReceiveEndpoint(queueName, (IRedisStreamsReceiveEndpointConfigurator x) => configureEndpoint?.Invoke(x));
    }

    public HostReceiveEndpointHandle ConnectReceiveEndpoint(string queueName, Action<IRedisStreamsReceiveEndpointConfigurator>? configure = null)
    {
        LogContext.SetCurrentIfNull(_hostConfiguration.LogContext);

        var configuration = _hostConfiguration.CreateReceiveEndpointConfiguration(queueName, configure);

        TransportLogMessages.ConnectReceiveEndpoint(configuration.InputAddress);

        configuration.Validate().ThrowIfContainsFailure("The receive endpoint configuration is invalid:");

        configuration.Build(this);

        return ReceiveEndpoints.Start(queueName);
    }

    protected override void Probe(ProbeContext context)
    {
        context.Add("type", "RedisStreams");
        context.Add("hostAddress", _hostConfiguration.HostAddress);
        context.Add("consumerName", _hostConfiguration.BusContext.Identity.CurrentName ?? "");
    }

    protected override IAgent[] GetAgentHandles()
    {
        var bus = _hostConfiguration.BusContext;

        // Stopped in the order given, after every endpoint: the background agents first, the connection last.
        return [..bus.TakeBackgroundAgents(), new CloseConnectionAgent(bus)];
    }


    /// <summary>
    /// Stopped by the host after every endpoint: closes the connection if the bus owns it. A new agent is made for each stop,
    /// and the connection is made again on next use, so a stopped bus can be started again.
    /// </summary>
    sealed class CloseConnectionAgent :
        Agent
    {
        readonly RedisStreamsBusContext _bus;

        public CloseConnectionAgent(RedisStreamsBusContext bus)
        {
            _bus = bus;
            SetReady();
        }

        protected override async Task StopAgent(StopContext context)
        {
            await _bus.Identity.Release().ConfigureAwait(false);
            await _bus.Readers.DisposeAsync().ConfigureAwait(false);
            await _bus.Connection.DisposeAsync().ConfigureAwait(false);

            await base.StopAgent(context).ConfigureAwait(false);
        }
    }
}
