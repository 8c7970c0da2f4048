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

        await BusProbe.AssertRuns($"redis://shop:{Uri.EscapeDataString(Password)}@127.0.0.1:{server.Port}", null);
        await BusProbe.AssertRuns($"127.0.0.1:{server.Port}", h =>
        {
            h.User = "shop";
            h.Password = Password;
        });
    }
}
