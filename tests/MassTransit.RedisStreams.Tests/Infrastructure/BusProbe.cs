namespace MassTransit.RedisStreams.Tests.Infrastructure;

using System;
using System.Threading;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// Proves that a bus runs on a connection: started with <c>cfg.Host(...)</c> as given, it publishes an event that an endpoint
/// of its own consumes. Each probe works under a key prefix of its own unless the caller sets one.
/// </summary>
public static class BusProbe
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static Task AssertRuns(string configuration, Action<IRedisStreamsHostConfigurator>? host = null)
    {
        return AssertRuns(cfg => cfg.Host(configuration, h =>
        {
            h.KeyPrefix = NewPrefix();
            host?.Invoke(h);
        }));
    }

    public static Task AssertRuns(ConfigurationOptions options)
    {
        return AssertRuns(cfg => cfg.Host(options, h => h.KeyPrefix = NewPrefix()));
    }

    public static async Task AssertRuns(Action<IRedisStreamsBusFactoryConfigurator> host)
    {
        var received = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            host(cfg);
            cfg.ReceiveEndpoint("lots", e => e.Handler<AuctionEnded>(context =>
            {
                received.TrySetResult(context.Message.AuctionId);
                return Task.CompletedTask;
            }));
        });

        using var starting = new CancellationTokenSource(Timeout);
        await bus.StartAsync(starting.Token);
        try
        {
            var auctionId = Guid.NewGuid();
            await bus.Publish(new AuctionEnded(auctionId, "Lamp", 10m));

            Assert.Equal(auctionId, await received.Task.WaitAsync(Timeout));
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..8];
}
