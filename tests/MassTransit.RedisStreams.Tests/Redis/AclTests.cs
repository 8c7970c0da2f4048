namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Threading.Tasks;
using Infrastructure;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// Tenants on one Redis, each with its own ACL user and key prefix: a tenant's user runs a whole bus, and cannot read or
/// write the other tenant's streams.
/// </summary>
public class AclTests
{
    /// <summary>
    /// The key and channel patterns of a tenant with key prefix <paramref name="prefix" />: its keys, and the keys and
    /// channels beside its streams, whose names start with the stream's in braces (a hash tag).
    /// </summary>
    static string[] TenantRules(string user, string password, string prefix) =>
        [user, "reset", "on", ">" + password, $"~{prefix}:*", $"~{{{prefix}:*", $"&{prefix}:*", $"&{{{prefix}:*", "+@all", "-@dangerous"];

    [RedisServerFact]
    public async Task A_tenant_user_runs_a_bus_under_its_prefix_and_cannot_touch_another_tenants_streams()
    {
        using var server = RedisServerProcess.Start(appendOnly: false);
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true"))
        {
            var db = admin.GetDatabase();
            await db.ExecuteAsync("ACL", ["SETUSER", .. TenantRules("tenant_a", "pw-a", "tenantA")]);
            await db.ExecuteAsync("ACL", ["SETUSER", .. TenantRules("tenant_b", "pw-b", "tenantB")]);
            await db.StreamAddAsync("tenantB:queue:invoices", "body", "{}");
        }

        await BusProbe.AssertRuns(cfg => cfg.Host($"redis://tenant_a:pw-a@127.0.0.1:{server.Port}", h => h.KeyPrefix = "tenantA"));

        await using var tenantA = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{server.Port},user=tenant_a,password=pw-a");
        var a = tenantA.GetDatabase();
        await Assert.ThrowsAsync<RedisServerException>(() => a.StreamRangeAsync("tenantB:queue:invoices", "-", "+"));
        await Assert.ThrowsAsync<RedisServerException>(() => a.StreamAddAsync("tenantB:queue:invoices", "body", "{}"));
        await Assert.ThrowsAsync<RedisServerException>(() => a.StreamTrimAsync("tenantB:queue:invoices", 0));
        await Assert.ThrowsAsync<RedisServerException>(() => a.StreamAddAsync("{tenantB:queue:invoices}:wake", "body", "{}"));
    }
}
