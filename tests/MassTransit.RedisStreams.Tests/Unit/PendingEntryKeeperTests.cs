namespace MassTransit.RedisStreams.Tests.Unit;

using System;
using System.Linq;
using System.Threading.Tasks;
using Fakes;
using Infrastructure;
using RedisStreams.Transport;
using Xunit;


/// <summary>When the keeper claims, keeps alive and checks entries, on fakes of the gateway and a fake clock.</summary>
public class PendingEntryKeeperTests
{
    static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task The_entries_of_a_dead_consumer_are_claimed_at_once_ahead_of_new_ones_and_nothing_new_is_read_meanwhile()
    {
        await using var rig = new ReceiveRig(prefetch: 4);
        await rig.StartKeeper();
        var queue = rig.Keys[0];
        for (var i = 0; i < 3; i++)
            rig.Redis.Append(queue);
        rig.Redis.ReadAs(queue, ReceiveRig.Group, "dead", 3);

        // This instance holds a full buffer of new entries when the death is reported.
        for (var i = 0; i < 4; i++)
            rig.Redis.Append(queue);
        foreach (var entry in (await rig.Redis.ReadNew([queue], [4], ReceiveRig.Group, ReceiveRig.Consumer, null)).Entries[0])
            rig.Buffer.Queue(rig.Buffer.Hold(rig.Streams[0], entry, 1, 0)!.Value);
        rig.Time.Advance(TimeSpan.FromSeconds(2));

        rig.Keeper.OnConsumersDied([new ConsumerDeath("dead", rig.Time.GetTimestamp())]);
        Assert.Equal(0, rig.Buffer.FreeForReading);

        // As an entry is done, the room goes to a claimed one, which the next worker takes before the new ones queued.
        rig.Buffer.Done(await rig.Take());
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await Eventually.True(() => rig.Buffer.Count == 4, Wait), "a claimed entry took the room");
            var next = await rig.Take();
            Assert.Equal(2, next.DeliveryCount);
            rig.Buffer.Done(next);
        }

        Assert.True(await Eventually.True(() => rig.Buffer.FreeForReading > 0, Wait), "reading goes on once the claims are in");
        Assert.All(rig.Redis.PendingOf(queue, ReceiveRig.Group), x => Assert.Equal(ReceiveRig.Consumer, x.Consumer));
    }

    [Fact]
    public async Task Held_entries_are_kept_alive_every_third_of_the_claim_timeout()
    {
        await using var rig = new ReceiveRig();
        await rig.StartKeeper();
        rig.Redis.Append(rig.Keys[0]);
        var entry = (await rig.Redis.ReadNew([rig.Keys[0]], [1], ReceiveRig.Group, ReceiveRig.Consumer, null)).Entries[0][0];
        rig.Buffer.Hold(rig.Streams[0], entry, 1, 0);

        // Another instance with the claim timeout would take it after 30 s idle; it is touched every 10 s instead.
        for (var i = 0; i < 4; i++)
        {
            rig.Time.Advance(ReceiveRig.ClaimTimeout / 3);
            await Task.Yield();
        }

        Assert.True(await Eventually.True(async () =>
            (await rig.Redis.GetIdlePending(rig.Keys[0], ReceiveRig.Group, ReceiveRig.Consumer, ReceiveRig.ClaimTimeout, 10)).Length == 0, Wait));
        Assert.Empty(await rig.Redis.GetIdlePending(rig.Keys[0], ReceiveRig.Group, ReceiveRig.Consumer, ReceiveRig.ClaimTimeout / 2, 10));
    }

    [Fact]
    public async Task After_a_lapse_the_entries_another_instance_claimed_meanwhile_are_dropped_unstarted()
    {
        await using var rig = new ReceiveRig();
        await rig.StartKeeper();
        for (var i = 0; i < 3; i++)
            rig.Redis.Append(rig.Keys[0]);
        var entries = (await rig.Redis.ReadNew([rig.Keys[0]], [3], ReceiveRig.Group, ReceiveRig.Consumer, null)).Entries[0];
        foreach (var entry in entries)
            rig.Buffer.Queue(rig.Buffer.Hold(rig.Streams[0], entry, 1, 0)!.Value);

        // This instance stood still; another claimed two of its entries.
        rig.Time.Advance(TimeSpan.FromSeconds(5));
        await rig.Redis.Claim(rig.Keys[0], ReceiveRig.Group, "other", TimeSpan.FromSeconds(1), [entries[0].Id, entries[1].Id]);

        rig.Signals.OnLapsed();

        Assert.True(await Eventually.True(() => rig.Buffer.Count == 1, Wait), "the two claimed entries were dropped");
        Assert.Equal(entries[2].Id, (await rig.Take()).Entry.Id);
    }

    [Fact]
    public async Task Entries_idle_longer_than_the_claim_timeout_are_claimed_once_per_claim_timeout()
    {
        await using var rig = new ReceiveRig();
        rig.Redis.Append(rig.Keys[0]);
        await rig.Redis.CreateGroup(rig.Keys[0], ReceiveRig.Group, "0");
        rig.Redis.ReadAs(rig.Keys[0], ReceiveRig.Group, "no-lease", 1);
        await rig.StartKeeper();

        rig.Time.Advance(ReceiveRig.ClaimTimeout);
        await Task.Yield();
        rig.Time.Advance(TimeSpan.FromSeconds(1));

        var claimed = await rig.Take();
        Assert.Equal(2, claimed.DeliveryCount);
        Assert.Equal(ReceiveRig.Consumer, rig.Redis.PendingOf(rig.Keys[0], ReceiveRig.Group).Single().Consumer);
    }

    [Fact]
    public async Task A_dead_consumer_that_came_back_keeps_the_entries_it_touched_after_its_death_was_noticed()
    {
        await using var rig = new ReceiveRig(prefetch: 4);
        await rig.StartKeeper();
        var queue = rig.Keys[0];
        for (var i = 0; i < 3; i++)
            rig.Redis.Append(queue);
        rig.Redis.ReadAs(queue, ReceiveRig.Group, "back", 3);
        var ids = rig.Redis.PendingOf(queue, ReceiveRig.Group).Select(x => x.Id).ToArray();

        rig.Time.Advance(TimeSpan.FromSeconds(5));
        var noticedAt = rig.Time.GetTimestamp();

        // Back 1 s later, it checks two of its entries before starting them; this instance hears of the death 2 s after that.
        rig.Time.Advance(TimeSpan.FromSeconds(1));
        await rig.Redis.SetIdleTime(queue, ReceiveRig.Group, "back", [ids[1], ids[2]], TimeSpan.Zero);
        rig.Time.Advance(TimeSpan.FromSeconds(2));
        rig.Keeper.OnConsumersDied([new ConsumerDeath("back", noticedAt)]);

        var claimed = await rig.Take();
        Assert.Equal(ids[0], claimed.Entry.Id);
        Assert.True(await Eventually.True(() => rig.Buffer.FreeForReading > 0, Wait), "the claims are over");
        Assert.Equal(["back", "back"], rig.Redis.PendingOf(queue, ReceiveRig.Group).Where(x => x.Id != ids[0]).Select(x => x.Consumer));
    }
}
