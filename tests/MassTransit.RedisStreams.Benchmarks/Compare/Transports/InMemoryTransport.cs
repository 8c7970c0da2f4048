namespace MassTransit.RedisStreams.Benchmarks.Compare.Transports;

using System;


/// <summary>MassTransit's in-memory transport with its default settings: the ceiling of MassTransit itself.</summary>
public sealed class InMemoryTransport :
    BusTransport
{
    public override string Name => TransportNames.InMemory;
    public override bool CrossProcess => false;

    public override void Use(IBusRegistrationConfigurator x, Action<IBusRegistrationContext, IBusFactoryConfigurator>? configure)
    {
        x.UsingInMemory((context, cfg) =>
        {
            configure?.Invoke(context, cfg);
            cfg.ConfigureEndpoints(context);
        });
    }
}
