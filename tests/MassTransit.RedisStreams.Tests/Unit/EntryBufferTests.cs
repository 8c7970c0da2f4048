namespace MassTransit.RedisStreams.Tests.Unit;

using System;
using System.Threading.Tasks;
using RedisStreams.Redis;
using RedisStreams.Transport;
using StackExchange.Redis;
using Xunit;


/// <summary>The one owner of an endpoint's held entries: the order the workers take them in, the prefetch bound, the claims gate.</summary>
public class EntryBufferTests
{
    static readonly ReceiveStream Stream = new("queue:orders", true);

    static StreamEntry Entry(ulong ms) => new($"{ms}-0", [new NameValueEntry("body", "{}")]);

    [Fact]
    public async Task Claimed_entries_are_taken_before_entries_read_new()
    {
        var buffer = new EntryBuffer(10);
        buffer.Queue(buffer.Hold(Stream, Entry(1), 1, 0)!.Value);
        buffer.Queue(buffer.Hold(Stream, Entry(2), 1, 0)!.Value);
        Assert.True(buffer.AddClaimed(Stream, Entry(9), 3, 0));

        Assert.Equal("9-0", (await buffer.Take())!.Value.Entry.Id.ToString());
        Assert.Equal("1-0", (await buffer.Take())!.Value.Entry.Id.ToString());
        Assert.Equal("2-0", (await buffer.Take())!.Value.Entry.Id.ToString());
    }

    [Fact]
    public async Task An_entry_held_back_is_queued_once_the_frontier_reaches_it_oldest_first()
    {
        var buffer = new EntryBuffer(10);
        buffer.HoldBack(buffer.Hold(Stream, Entry(5), 1, 0)!.Value, new StreamEntryId(5, 0));
        buffer.HoldBack(buffer.Hold(Stream, Entry(3), 1, 0)!.Value, new StreamEntryId(3, 0));

        buffer.ReleaseThrough(new StreamEntryId(4, 0));
        Assert.Equal(1, buffer.HeldBackCount);
        Assert.Equal("3-0", (await buffer.Take())!.Value.Entry.Id.ToString());

        buffer.ReleaseThrough(new StreamEntryId(5, 0));
        Assert.Equal("5-0", (await buffer.Take())!.Value.Entry.Id.ToString());
        Assert.Equal(2, buffer.Count);
    }

    [Fact]
    public void Room_goes_to_claims_while_they_wait_and_an_entry_is_held_once()
    {
        var buffer = new EntryBuffer(3);
        Assert.NotNull(buffer.Hold(Stream, Entry(1), 1, 0));
        Assert.Null(buffer.Hold(Stream, Entry(1), 1, 0));

        buffer.BeginClaims();
        Assert.Equal(0, buffer.FreeForReading);
        Assert.Equal(2, buffer.FreeCapacity);

        buffer.EndClaims();
        Assert.Equal(2, buffer.FreeForReading);
    }

    [Fact]
    public async Task A_dropped_entry_is_not_taken_and_frees_its_room()
    {
        var buffer = new EntryBuffer(3);
        var dropped = buffer.Hold(Stream, Entry(1), 1, 0)!.Value;
        buffer.Queue(dropped);
        buffer.Queue(buffer.Hold(Stream, Entry(2), 1, 0)!.Value);

        buffer.Drop([dropped.Key]);

        Assert.Equal(2, buffer.FreeCapacity);
        Assert.Equal("2-0", (await buffer.Take())!.Value.Entry.Id.ToString());
    }

    [Fact]
    public async Task An_entry_dropped_and_claimed_back_before_a_worker_took_it_is_taken_once()
    {
        var buffer = new EntryBuffer(3);
        var first = buffer.Hold(Stream, Entry(1), 1, 0)!.Value;
        buffer.Queue(first);
        buffer.Drop([first.Key]);
        Assert.True(buffer.AddClaimed(Stream, Entry(1), 2, 1));
        buffer.Queue(buffer.Hold(Stream, Entry(2), 1, 0)!.Value);

        var taken = (await buffer.Take())!.Value;
        Assert.Equal(("1-0", 2), (taken.Entry.Id.ToString(), taken.DeliveryCount));
        Assert.Equal("2-0", (await buffer.Take())!.Value.Entry.Id.ToString());

        // The first hold's delivery, done late, does not release the second hold.
        buffer.Done(first);
        Assert.Equal(1, buffer.FreeCapacity);
    }

    [Fact]
    public void An_entry_done_while_claims_wait_asks_for_the_claims_to_go_on()
    {
        var asked = 0;
        var buffer = new EntryBuffer(3, () => asked++);
        var one = buffer.Hold(Stream, Entry(1), 1, 0)!.Value;
        var two = buffer.Hold(Stream, Entry(2), 1, 0)!.Value;

        buffer.Done(one);
        Assert.Equal(0, asked);

        buffer.BeginClaims();
        buffer.Done(two);
        Assert.Equal(1, asked);
    }

    [Fact]
    public async Task What_no_worker_started_is_handed_back_at_stop_and_a_complete_buffer_gives_no_more()
    {
        var buffer = new EntryBuffer(5);
        var started = buffer.Hold(Stream, Entry(1), 1, 0)!.Value;
        buffer.Queue(started);
        buffer.Queue(buffer.Hold(Stream, Entry(2), 1, 0)!.Value);
        buffer.HoldBack(buffer.Hold(Stream, Entry(7), 1, 0)!.Value, new StreamEntryId(7, 0));
        var returned = (await buffer.Take())!.Value;
        buffer.Requeue(returned);

        buffer.Complete();
        var unstarted = buffer.TakeUnstarted();

        Assert.Equal(["1-0", "2-0", "7-0"], unstarted.ConvertAll(x => x.Entry.Id.ToString()));
        Assert.Null(await buffer.Take().AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
    }
}
