namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Infrastructure;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// Tenants on one Redis, each with its own ACL user and key prefix: a tenant's user, allowed its prefix's keys and channels
/// and the command categories docs/deployment.md lists, runs a whole bus, and cannot read, write or trim the other tenant's streams.
/// </summary>
[Trait("Category", "ACL")]
public class AclTests
{
    /// <summary>The command categories docs/deployment.md gives a tenant's user: no <c>@admin</c>, no <c>@dangerous</c>.</summary>
    public const string Categories = "+@read +@write +@scripting +@pubsub +@connection +time -@dangerous";

    /// <summary>The ACL line of docs/deployment.md for a tenant with key prefix <paramref name="prefix" />: its keys and its channels only.</summary>
    static string[] TenantRules(string user, string password, string prefix) =>
        [user, "reset", "on", ">" + password, $"~{prefix}:*", $"&{prefix}:*", .. Categories.Split(' ')];

    /// <summary>What StackExchange.Redis tries when it connects and does without when it is refused.</summary>
    static readonly HashSet<string> RefusedHandshake = new(StringComparer.OrdinalIgnoreCase)
    {
        "command info", "command config|get", "command client|setinfo", "command role", "command cluster|nodes", "command cluster|slots",
        "key __Booksleeve_TieBreak", "channel __Booksleeve_MasterChanged",

        // What ends a blocking read at stop; refused, the bus closes the reader's connection instead, and asks no more.
        "command client|unblock"
    };

    [RedisServerFact]
    public async Task A_tenant_user_runs_a_bus_under_its_prefix_and_cannot_touch_another_tenants_streams()
    {
        using var server = RedisServerProcess.Start(appendOnly: false);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true");
        var db = admin.GetDatabase();
        await db.ExecuteAsync("ACL", ["SETUSER", .. TenantRules("tenant_a", "pw-a", "tenantA")]);
        await db.ExecuteAsync("ACL", ["SETUSER", .. TenantRules("tenant_b", "pw-b", "tenantB")]);
        await db.StreamAddAsync("tenantB:queue:invoices", "body", "{}");
        await db.ExecuteAsync("ACL", "LOG", "RESET");

        await RunWholeBus($"redis://tenant_a:pw-a@127.0.0.1:{server.Port}", "tenantA");

        // Everything the bus touched was under its prefix: Redis refused it no key and no channel, and no command but the
        // ones the client library tries when it connects and does without.
        var refused = await Refused(db.ExecuteAsync, "tenant_a");
        Assert.All(refused, x => Assert.Contains(x.Reason + " " + x.Object, RefusedHandshake));

        await using var tenantA = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{server.Port},user=tenant_a,password=pw-a");
        var a = tenantA.GetDatabase();
        await Assert.ThrowsAsync<RedisServerException>(() => a.StreamRangeAsync("tenantB:queue:invoices", "-", "+"));
        await Assert.ThrowsAsync<RedisServerException>(() => a.StreamAddAsync("tenantB:queue:invoices", "body", "{}"));
        await Assert.ThrowsAsync<RedisServerException>(() => a.StreamTrimAsync("tenantB:queue:invoices", 0));
        await Assert.ThrowsAsync<RedisServerException>(() => a.StreamAddAsync("tenantB:{tenantB:queue:invoices}:wake", "body", "{}"));
        await Assert.ThrowsAsync<RedisServerException>(() => a.PublishAsync(RedisChannel.Literal("tenantB:{tenantB:queue:invoices}:wake"), "x"));
        Assert.Equal(1, await db.StreamLengthAsync("tenantB:queue:invoices"));

    }

    /// <summary>
    /// On a Redis Cluster (ACL users are per node, so the user is made on each) the same line runs a whole bus with
    /// <c>+cluster|nodes +cluster|slots</c> added, which the client needs to learn which node serves which slot.
    /// </summary>
    [RedisClusterFact]
    public async Task On_a_cluster_the_tenant_line_with_the_slot_map_commands_runs_a_whole_bus()
    {
        using var cluster = await RedisClusterProcess.Start();
        foreach (var node in cluster.Nodes)
        {
            await using var admin = await ConnectionMultiplexer.ConnectAsync(node.ConnectionString + ",allowAdmin=true");
            var server = admin.GetServer(node.ConnectionString);
            await server.ExecuteAsync("ACL", ["SETUSER", .. TenantRules("tenant_a", "pw-a", "tenantA"), "+cluster|nodes", "+cluster|slots"]);
            await server.ExecuteAsync("ACL", "LOG", "RESET");
        }

        await RunWholeBus(string.Join(",", cluster.Nodes.Select(x => x.ConnectionString)) + ",user=tenant_a,password=pw-a", "tenantA");

        foreach (var node in cluster.Nodes)
        {
            await using var admin = await ConnectionMultiplexer.ConnectAsync(node.ConnectionString + ",allowAdmin=true");
            var refused = await Refused(admin.GetServer(node.ConnectionString).ExecuteAsync, "tenant_a");
            Assert.All(refused, x => Assert.Contains(x.Reason + " " + x.Object, RefusedHandshake));
        }
    }

    /// <summary>
    /// Publish and consume, send, request/response, a delayed send, the event history, a replay, a rewind and a trim, as the
    /// ACL user: each fails with NOPERM when a key or channel it needs is not under the prefix.
    /// </summary>
    static async Task RunWholeBus(string configuration, string prefix)
    {
        var timeout = TimeSpan.FromSeconds(20);
        var published = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
        var delayed = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
        var replayed = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(configuration, h => h.KeyPrefix = prefix);
            cfg.ReceiveEndpoint("lots", e =>
            {
                e.Handler<AuctionEnded>(context =>
                {
                    if (context.TryGetPayload<RedisStreamsMessageContext>(out var redis) && redis.IsReplay)
                        replayed.TrySetResult(context.Message.AuctionId);
                    else
                        published.TrySetResult(context.Message.AuctionId);
                    return Task.CompletedTask;
                });
                e.Handler<Bid>(context => context.Message.Note == "later"
                    ? Task.FromResult(delayed.TrySetResult(context.Message.BidId))
                    : context.RespondAsync(context.Message with { Note = "accepted" }));
            });
        });

        using var starting = new CancellationTokenSource(timeout);
        await bus.StartAsync(starting.Token);
        try
        {
            var auctionId = Guid.NewGuid();
            await bus.Publish(new AuctionEnded(auctionId, "Lamp", 10m));
            Assert.Equal(auctionId, await published.Task.WaitAsync(timeout));

            var bid = new Bid(Guid.NewGuid(), 1, "ann", 12m, "now");
            var response = await bus.CreateRequestClient<Bid>(new Uri("queue:lots")).GetResponse<Bid>(bid);
            Assert.Equal("accepted", response.Message.Note);

            var later = bid with { BidId = Guid.NewGuid(), Note = "later" };
            var endpoint = await bus.GetSendEndpoint(new Uri("queue:lots"));
            await endpoint.Send(later, context => context.Delay = TimeSpan.FromMilliseconds(200));
            Assert.Equal(later.BidId, await delayed.Task.WaitAsync(timeout));

            await using var multiplexer = await ConnectionMultiplexer.ConnectAsync(RedisStreams.Redis.RedisConfiguration.Parse(configuration));
            var history = new RedisStreamsEventHistory(multiplexer, prefix);
            Assert.Equal(auctionId, Assert.Single(await history.GetEvents<AuctionEnded>()).Message!.AuctionId);
            Assert.Contains(await history.GetOverview(), x => x.StreamKey == prefix + ":events:AuctionEnded");
            Assert.Equal(1, await history.Replay<AuctionEnded>("lots"));
            Assert.Equal(auctionId, await replayed.Task.WaitAsync(timeout));
            Assert.NotEmpty(await history.Rewind("lots", RedisStreamsPosition.Beginning));

            var report = await new RedisStreamsAdmin(multiplexer, prefix).Trim();
            Assert.NotNull(report);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    static async Task<List<(string Reason, string Object)>> Refused(Func<string, object[], Task<RedisResult>> execute, string user)
    {
        var entries = (RedisResult[])(await execute("ACL", ["LOG", "128"]))!;
        var refused = new List<(string, string)>();
        foreach (var entry in entries)
        {
            var fields = (RedisResult[])entry!;
            var map = new Dictionary<string, string>();
            for (var i = 0; i + 1 < fields.Length; i += 2)
                map[(string)fields[i]!] = fields[i + 1].ToString();
            if (map.GetValueOrDefault("username") == user)
                refused.Add((map["reason"], map["object"]));
        }

        return refused;
    }
}
