namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Threading.Tasks;
using Infrastructure;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// A bus connects as an ACL user, with the connection given as a redis:// URI or with the user and password apart from
/// the connection string (as they come from a secret store or the environment), to a server that requires them.
/// </summary>
public class ConnectionStringTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    const string Password = "p@ss:w/rd";

    [RedisServerFact]
    public async Task A_bus_runs_as_an_acl_user_given_in_a_redis_uri_or_apart_from_the_string()
    {
        using var server = RedisServerProcess.Start(appendOnly: false);
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true"))
        {
            var db = admin.GetDatabase();
            await db.ExecuteAsync("ACL", "SETUSER", "shop", "on", ">" + Password, "~*", "&*", "+@all");

            // From here on, a connection without a user and password is refused.
            await db.ExecuteAsync("CONFIG", "SET", "requirepass", "another-secret");
        }

        await AssertBusRuns($"redis://shop:{Uri.EscapeDataString(Password)}@127.0.0.1:{server.Port}", null);
        await AssertBusRuns($"127.0.0.1:{server.Port}", h =>
        {
            h.User = "shop";
            h.Password = Password;
        });
    }

    static async Task AssertBusRuns(string configuration, Action<IRedisStreamsHostConfigurator>? host)
    {
        var received = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(configuration, h =>
            {
                h.KeyPrefix = "t" + Guid.NewGuid().ToString("N")[..8];
                host?.Invoke(h);
            });
            cfg.ReceiveEndpoint("lots", e => e.Handler<AuctionEnded>(context =>
            {
                received.TrySetResult(context.Message.AuctionId);
                return Task.CompletedTask;
            }));
        });

        await bus.StartAsync(new System.Threading.CancellationTokenSource(Timeout).Token);
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
}
