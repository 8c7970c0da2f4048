namespace MassTransit.RedisStreams.Tests.Scheduling;

using System;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using RedisStreams.Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// Holding, moving and cancelling a delayed message touch only keys in the hash slot of its stream, so they run on a Redis
/// Cluster as they are: checked against a private three-node cluster, where anything else fails with CROSSSLOT.
/// </summary>
[Trait("Category", "Cluster")]
public class ClusterReadinessTests
{
    [RedisClusterFact]
    public async Task Delayed_messages_are_held_moved_and_cancelled_on_a_cluster_for_streams_in_different_slots()
    {
        using var cluster = await RedisClusterProcess.Start();
        await using var multiplexer = await ConnectionMultiplexer.ConnectAsync(cluster.ConnectionString);
        var client = new RedisGateway(new RedisConnection(multiplexer, observe: false), new StreamKeys("shop"));
        var database = multiplexer.GetDatabase();

        RedisKey[] streams = [client.Keys.Queue("orders"), client.Keys.Queue("billing"), client.Keys.Events("OrderPlaced")];
        Assert.True(streams.Select(x => multiplexer.HashSlot(x)).Distinct().Count() > 1, "the streams live in different slots");

        foreach (var stream in streams)
        {
            var due = NewEntry("due");
            await client.Delayed.Schedule(stream, due, onlyIfStreamExists: false, DateTimeOffset.UtcNow.AddMilliseconds(-1), "token-due-" + stream.ToString(), cancellable: true);
            await client.Delayed.Schedule(stream, NewEntry("cancelled"), onlyIfStreamExists: false, DateTimeOffset.UtcNow.AddHours(1), "token-cancelled-" + stream.ToString(),
                cancellable: true);
            await client.Delayed.Schedule(stream, NewEntry("later"), onlyIfStreamExists: false, DateTimeOffset.UtcNow.AddHours(2), "token-later-" + stream.ToString(),
                cancellable: false);

            Assert.Equal(3, (await client.Delayed.GetSummary(stream)).Count);
            Assert.Equal(["due", "cancelled", "later"], (await client.Delayed.GetHeld(stream, 10)).Select(x => (string?)x.Fields.Single(f => f.Name == "Lot").Value));

            var (moved, nextDue, tokens) = await client.Delayed.MoveDue(stream, 100);
            Assert.Equal(1, moved);
            Assert.NotNull(nextDue);
            await client.Delayed.ForgetTokens(tokens);

            Assert.Equal(stream, await client.Delayed.GetStreamOf("token-cancelled-" + stream.ToString()));
            Assert.True(await client.Delayed.Cancel(stream, "token-cancelled-" + stream.ToString()));
            Assert.Null(await client.Delayed.GetStreamOf("token-cancelled-" + stream.ToString()));

            // A plain append next to the moved one: both took their IDs from the stream's own clock.
            Assert.NotNull(await client.Appends.Append(stream, NewEntry("appended"), onlyIfStreamExists: false));

            var entries = await database.StreamRangeAsync(stream);
            Assert.Equal(["due", "appended"], entries.Select(x => (string?)x["Lot"]));
            Assert.Equal(entries[1].Id.ToString(), (string?)await database.StringGetAsync("shop:{" + stream.ToString() + "}:clock"));
            Assert.Equal(1, (await client.Delayed.GetSummary(stream)).Count);
        }

        Assert.Equal(streams.Length, (await client.Delayed.GetStreams()).Length);
    }

    static NewEntry NewEntry(string lot)
    {
        var entry = new NewEntry();
        entry.Add("body", "{}");
        entry.Add("Lot", lot);
        return entry;
    }
}
