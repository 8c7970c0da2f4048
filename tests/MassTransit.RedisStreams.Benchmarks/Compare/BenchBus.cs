namespace MassTransit.RedisStreams.Benchmarks.Compare;

using System;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Transports;


/// <summary>
/// A bus for one run: the transport with its defaults, the given consumers on endpoints named by
/// <see cref="ConfigureEndpoints" /> under the run's prefix, and singletons the consumers report to.
/// </summary>
public sealed class BenchBus :
    IAsyncDisposable
{
    readonly ServiceProvider _provider;

    BenchBus(ServiceProvider provider, IBusControl bus)
    {
        _provider = provider;
        Bus = bus;
    }

    public IBusControl Bus { get; }

    public static async Task<BenchBus> Start(BusTransport transport, RunScope scope, Type[] consumers, object[]? singletons = null,
        Action<IBusRegistrationContext, IBusFactoryConfigurator>? configure = null)
    {
        var services = new ServiceCollection();
        foreach (var singleton in singletons ?? [])
            services.AddSingleton(singleton.GetType(), singleton);

        services.AddMassTransit(x =>
        {
            foreach (var consumer in consumers)
            {
                var name = scope.Endpoint(EndpointName(consumer));
                x.AddConsumer(consumer).Endpoint(e => e.Name = name);
            }

            transport.Use(x, configure);
        });

        var provider = services.BuildServiceProvider();
        var bus = provider.GetRequiredService<IBusControl>();
        await bus.StartAsync();
        return new BenchBus(provider, bus);
    }

    /// <summary>The queue of a consumer type registered in this run.</summary>
    public Task<ISendEndpoint> Queue(RunScope scope, Type consumer) =>
        Bus.GetSendEndpoint(new Uri("queue:" + scope.RunId + "-" + EndpointName(consumer)));

    static string EndpointName(Type consumer) =>
        KebabCaseEndpointNameFormatter.Instance.SanitizeName(consumer.Name.Replace("Consumer", "", StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        await Bus.StopAsync();
        await _provider.DisposeAsync();
    }
}
