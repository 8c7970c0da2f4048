namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;


public record StartupOrderPlaced(Guid OrderId);


public record StartupOrderPaid(Guid OrderId);


public record StartupOrderShipped(Guid OrderId);


/// <summary>
/// What a bus sends Redis while it starts goes out together, not one command after the other: through a proxy that adds a
/// round trip of network latency to every command, a bus of three endpoints starts in a few round trips' time.
/// </summary>
public class StartupTests
{
    /// <summary>
    /// The round trips a start may wait for one after the other: the connection's handshake (StackExchange.Redis connects its
    /// command and its subscription connection side by side, about two round trips), the consumer name lease beside the wake
    /// channel subscriptions and the groups, then the subscriber registrations: about 4, with room for a machine busy with
    /// other tests (before the start-up was pipelined it took 9). The endpoints read their own pending entries after they
    /// have reported ready.
    /// </summary>
    const int MaxSequentialRoundTrips = 6;

    readonly ITestOutputHelper _output;

    public StartupTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public async Task A_bus_of_three_endpoints_starts_in_a_few_round_trips_to_Redis()
    {
        var redis = await RedisTestContext.Create();
        await using var proxy = new LatencyProxy(redis.ConnectionString, TimeSpan.FromMilliseconds(15));

        // The first start in a process pays for loading and compiling code; the second shows what Redis costs.
        await StartAndStop(redis.ConnectionString, redis.KeyPrefix);
        var elapsed = await StartAndStop(proxy.ConnectionString, redis.KeyPrefix);

        var roundTrips = elapsed / proxy.RoundTrip;
        _output.WriteLine($"started in {elapsed.TotalMilliseconds:0} ms through a proxy of {proxy.RoundTrip.TotalMilliseconds:0} ms round trips: "
            + $"{roundTrips:0.0} round trips");

        Assert.True(roundTrips <= MaxSequentialRoundTrips,
            $"started within {MaxSequentialRoundTrips} round trips (took {roundTrips:0.0}, {elapsed.TotalMilliseconds:0} ms)");
    }

    static async Task<TimeSpan> StartAndStop(string connectionString, string keyPrefix)
    {
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(connectionString, h => h.KeyPrefix = keyPrefix);
            cfg.ReceiveEndpoint("startup-billing", e => e.Handler<StartupOrderPlaced>(_ => Task.CompletedTask));
            cfg.ReceiveEndpoint("startup-shipping", e => e.Handler<StartupOrderPaid>(_ => Task.CompletedTask));
            cfg.ReceiveEndpoint("startup-tracking", e => e.Handler<StartupOrderShipped>(_ => Task.CompletedTask));
        });

        var started = Stopwatch.StartNew();
        await bus.StartAsync();
        var elapsed = started.Elapsed;

        await bus.StopAsync();
        return elapsed;
    }

    [Fact]
    public async Task A_bus_built_by_the_container_connects_while_it_is_built_and_closes_with_the_container_when_never_started()
    {
        var redis = await RedisTestContext.Create();
        var name = "early-" + Guid.NewGuid().ToString("N");

        var services = new ServiceCollection();
        services.AddMassTransit(x =>
        {
            x.AddHandler<StartupOrderPlaced>((ConsumeContext<StartupOrderPlaced> _) => Task.CompletedTask).Endpoint(e => e.Name = "startup-early");
            x.UsingRedisStreams((context, cfg) =>
            {
                cfg.Host(redis.ConnectionString + ",name=" + name, h => h.KeyPrefix = redis.KeyPrefix);
                cfg.ConfigureEndpoints(context);
            });
        });

        await using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true");
        var server = admin.GetServers()[0];

        var provider = services.BuildServiceProvider();
        var bus = provider.GetRequiredService<IBusControl>();

        Assert.True(await Eventually.True(async () => await Clients(server, name) > 0, TimeSpan.FromSeconds(10)),
            "the connection opened while the bus was built, before it was started");

        // Disposed asynchronously, as MassTransit's own services require.
        await provider.DisposeAsync();

        Assert.True(await Eventually.True(async () => await Clients(server, name) == 0, TimeSpan.FromSeconds(10)),
            "disposing the container closed the connection of the bus that never started");
        GC.KeepAlive(bus);
    }

    [Fact]
    public async Task A_bus_built_by_the_container_against_an_unreachable_Redis_is_built_and_disposed_without_an_error()
    {
        var port = RedisServerProcess.FindFreePort();

        var services = new ServiceCollection();
        services.AddMassTransit(x => x.UsingRedisStreams((context, cfg) =>
        {
            cfg.Host($"127.0.0.1:{port},connectTimeout=500");
            cfg.ConfigureEndpoints(context);
        }));

        var provider = services.BuildServiceProvider();
        Assert.NotNull(provider.GetRequiredService<IBusControl>());

        var disposing = Stopwatch.StartNew();
        await provider.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(15));
        _output.WriteLine($"disposed in {disposing.ElapsedMilliseconds} ms");
    }

    static async Task<int> Clients(IServer server, string name) => (await server.ClientListAsync()).Count(x => x.Name == name);
}
