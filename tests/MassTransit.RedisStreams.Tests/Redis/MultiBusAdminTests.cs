namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Threading;
using System.Threading.Tasks;
using Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;


/// <summary>
/// An additional bus (MultiBus) on Redis Streams has its own <see cref="IRedisStreamsAdmin{TBus}" />, bound to its connection
/// and key prefix, as it has its own event history.
/// </summary>
public class MultiBusAdminTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public interface IOtherBus :
        IBus
    {
    }


    public record OtherWork(int Number);

    [Fact]
    public async Task The_admin_of_an_additional_bus_requeues_from_that_bus_streams()
    {
        var redis = await RedisTestContext.Create();
        var other = RedisTestContext.Create(redis.ConnectionString, redis.KeyPrefix + "-other");
        var attempts = 0;

        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddMassTransit(x => x.UsingRedisStreams((context, cfg) =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ConfigureEndpoints(context);
        }));
        services.AddMassTransit<IOtherBus>(x =>
        {
            x.AddHandler<OtherWork>((ConsumeContext<OtherWork> _) =>
                Interlocked.Increment(ref attempts) == 1 ? throw new InvalidOperationException("first attempt fails") : Task.CompletedTask)
                .Endpoint(e => e.Name = "other-work");
            x.UsingRedisStreams((context, cfg) =>
            {
                cfg.Host(other.ConnectionString, h => h.KeyPrefix = other.KeyPrefix);
                cfg.ConfigureEndpoints(context);
            });
        });

        await using var provider = services.BuildServiceProvider();
        var hosted = provider.GetServices<IHostedService>();
        foreach (var service in hosted)
            await service.StartAsync(CancellationToken.None);
        try
        {
            var admin = provider.GetRequiredService<IRedisStreamsAdmin<IOtherBus>>();
            Assert.NotSame(provider.GetRequiredService<IRedisStreamsAdmin>(), admin);
            Assert.NotNull(provider.GetRequiredService<IRedisStreamsEventHistory<IOtherBus>>());

            var bus = provider.GetRequiredService<IOtherBus>();
            var endpoint = await bus.GetSendEndpoint(new Uri("queue:other-work"));
            await endpoint.Send(new OtherWork(1));

            var db = await other.Database();
            var errorStream = other.Key("queue:other-work_error");
            Assert.True(await Eventually.True(async () => await db.StreamLengthAsync(errorStream) == 1, Timeout),
                "the failed message reaches the other bus's error stream");

            Assert.Equal(1, await admin.Requeue("other-work"));
            Assert.True(await Eventually.True(() => Volatile.Read(ref attempts) == 2, Timeout), "the requeued message is consumed");
            Assert.Equal(0, await db.StreamLengthAsync(errorStream));

            var overview = await provider.GetRequiredService<IRedisStreamsEventHistory<IOtherBus>>().GetOverview();
            Assert.Contains(overview, x => x.StreamKey == other.Key("queue:other-work").ToString());
        }
        finally
        {
            foreach (var service in hosted)
                await service.StopAsync(CancellationToken.None);
        }
    }
}
