namespace MassTransit.RedisStreams.Tests.Faults;

using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Redis;
using RedisStreams.Redis;
using RedisStreams.Transport;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// An instance taken for dead — it stood still, or was cut off, for longer than its lease — can come back under the same
/// name. The entries it touched after that are its own again; the survivors, still claiming its entries, take only those it
/// left untouched since its death was noticed. On a real pending list, whose idle times Redis keeps.
/// </summary>
public class DeadConsumerClaimTests
{
    const string Group = "g";

    [Fact]
    public async Task The_entries_a_returned_instance_touched_after_its_death_was_noticed_are_not_claimed_from_it()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var stream = redis.Key("queue:returned");
        await db.StreamCreateConsumerGroupAsync(stream, Group, "0", true);
        var ids = new RedisValue[4];
        for (var i = 0; i < ids.Length; i++)
            ids[i] = await db.StreamAddAsync(stream, "n", i);
        await db.StreamReadGroupAsync(stream, Group, "returned", ">", ids.Length);

        // Its death was noticed 5 s ago. Two entries it last touched before it died; two it touched 2 s ago, after it came back
        // (the check before it started one, a read of the other). Redis keeps the idle times; XCLAIM ... IDLE sets them.
        await db.ExecuteAsync("XCLAIM", stream, Group, "returned", 0, ids[0], ids[1], "IDLE", 8_000, "JUSTID");
        await db.ExecuteAsync("XCLAIM", stream, Group, "returned", 0, ids[2], ids[3], "IDLE", 2_000, "JUSTID");
        var time = new FakeTimeProvider();
        var noticedAt = time.GetTimestamp();
        time.Advance(TimeSpan.FromSeconds(5));

        var survivor = Survivor(db, stream);
        Assert.True(await survivor.Pending.ClaimFromDead("returned", () => time.GetElapsedTime(noticedAt)), "the claim is complete");

        var pending = (await db.StreamPendingMessagesAsync(stream, Group, 10, RedisValue.Null)).ToDictionary(x => x.MessageId, x => x.ConsumerName.ToString());
        Assert.Equal("survivor", pending[ids[0]]);
        Assert.Equal("survivor", pending[ids[1]]);
        Assert.Equal("returned", pending[ids[2]]);
        Assert.Equal("returned", pending[ids[3]]);
        Assert.Equal(2, survivor.Buffer.Count);
    }

    [Fact]
    public async Task Entries_untouched_for_less_than_a_second_are_not_claimed_however_long_ago_the_death_was_noticed()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var stream = redis.Key("queue:recent");
        await db.StreamCreateConsumerGroupAsync(stream, Group, "0", true);
        var old = await db.StreamAddAsync(stream, "n", 0);
        var recent = await db.StreamAddAsync(stream, "n", 1);
        await db.StreamReadGroupAsync(stream, Group, "dead", ">", 2);
        await db.ExecuteAsync("XCLAIM", stream, Group, "dead", 0, old, "IDLE", 8_000, "JUSTID");

        // Noticed just now: the floor of 1 s applies; the entry read a moment ago is left to whoever touched it.
        var survivor = Survivor(db, stream);
        Assert.True(await survivor.Pending.ClaimFromDead("dead", () => TimeSpan.Zero));

        var pending = (await db.StreamPendingMessagesAsync(stream, Group, 10, RedisValue.Null)).ToDictionary(x => x.MessageId, x => x.ConsumerName.ToString());
        Assert.Equal("survivor", pending[old]);
        Assert.Equal("dead", pending[recent]);
    }

    /// <summary>The survivor's side of the endpoint's pending lists, on the transport's own gateway.</summary>
    static (PendingEntries Pending, EntryBuffer Buffer) Survivor(IDatabase db, RedisKey stream)
    {
        var gateway = new RedisGateway(new RedisConnection(db.Multiplexer, observe: false), new StreamKeys(null));
        var buffer = new EntryBuffer(16);
        var standing = new LeaseStanding(TimeProvider.System, TimeSpan.FromSeconds(2));
        var acknowledger = new Acknowledger(gateway.Groups, Group, buffer, CancellationToken.None);
        var pending = new PendingEntries(gateway.Groups, gateway.Pending, gateway.Wake, new OneStream(stream), buffer, acknowledger, standing,
            () => "survivor", TimeSpan.FromSeconds(30));
        return (pending, buffer);
    }


    sealed class OneStream :
        IEndpointStreams
    {
        public OneStream(RedisKey stream)
        {
            Streams = [new ReceiveStream(stream, true)];
        }

        public ReceiveStream[] Streams { get; }
        public string Group => DeadConsumerClaimTests.Group;
        public string? WakeSubscriptions => null;
        public Task Setup() => Task.CompletedTask;
        public Task<bool> AnyWakeFlagCleared() => Task.FromResult(false);
        public Task RenewExpiry() => Task.CompletedTask;
        public Task Ping() => Task.CompletedTask;
        public Task RemoveDeadConsumers() => Task.CompletedTask;
    }
}
