namespace MassTransit.RedisStreams.Benchmarks.Compare.Transports;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Brokers;


/// <summary>
/// MassTransit's RabbitMQ transport with its defaults (durable queues, publisher confirms). Cleanup deletes the run's queues
/// and exchanges.
/// </summary>
public sealed class RabbitMqTransport(Uri address, RabbitBroker? broker = null) :
    BusTransport
{
    public override string Name => TransportNames.RabbitMq;
    public override bool CrossProcess => true;

    public override void Use(IBusRegistrationConfigurator x, Action<IBusRegistrationContext, IBusFactoryConfigurator>? configure)
    {
        x.UsingRabbitMq((context, cfg) =>
        {
            if (address.Scheme is "amqp" or "amqps")
                cfg.Host(address);
            else
            {
                cfg.Host(address, h =>
                {
                    h.Username("guest");
                    h.Password("guest");
                });
            }

            configure?.Invoke(context, cfg);
            cfg.ConfigureEndpoints(context);
        });
    }

    public override IEnumerable<string> WorkerArguments() => ["--rabbitmq", address.ToString()];

    public override async Task Cleanup(RunScope scope)
    {
        if (broker == null)
            return;

        var endpoints = scope.Endpoints.SelectMany(x => new[] { x, x + "_error", x + "_skipped" }).ToList();
        var exchanges = endpoints.Concat(scope.MessageTypes.Select(x => $"{x.Namespace}:{x.Name}"));
        await broker.Delete(endpoints, exchanges);
    }
}
