namespace MassTransit.RedisStreams.Tests.Unit;

using System;
using System.Linq;
using System.Threading.Tasks;
using Fakes;
using Infrastructure;
using StackExchange.Redis;
using Xunit;


/// <summary>The read loop's timing and state, on fakes of the gateway and a fake clock.</summary>
public class ReadLoopTests
{
    static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task An_idle_endpoint_arms_its_flags_then_reads_again_only_when_an_append_wakes_it()
    {
        await using var rig = new ReceiveRig();
        rig.Start();
        Assert.True(await Eventually.True(() => rig.Redis.ArmedReads >= 1 && rig.Reports.Contains("reading"), Wait), "armed while idle");
        var reads = rig.Redis.NewReads;

        rig.Redis.Append(rig.Keys[0]);

        var delivery = await rig.Take();
        Assert.Equal(rig.Keys[0], delivery.Stream.Key);
        Assert.True(rig.Redis.NewReads > reads, "the wake-up made it read");
        Assert.InRange(rig.Redis.NewReads - reads, 1, 3);
    }

    [Fact]
    public async Task Without_a_wake_up_an_idle_endpoint_reads_once_per_idle_poll_interval_and_finds_what_others_appended()
    {
        await using var rig = new ReceiveRig();
        rig.Start();
        Assert.True(await Eventually.True(() => rig.Redis.ArmedReads >= 1, Wait));

        // An entry another program appended with a plain XADD publishes no wake-up.
        rig.Redis.AppendQuietly(rig.Keys[0]);
        var reads = rig.Redis.NewReads;

        rig.Time.Advance(ReceiveRig.IdlePollInterval);

        Assert.True(await Eventually.True(() => rig.Redis.NewReads > reads, Wait), "polled after the interval");
        Assert.Equal(rig.Keys[0], (await rig.Take()).Stream.Key);
    }

    [Fact]
    public async Task A_failure_is_reported_once_and_after_the_retry_delay_the_endpoint_is_set_up_again_and_reads()
    {
        await using var rig = new ReceiveRig();
        rig.Start();
        Assert.True(await Eventually.True(() => rig.Redis.ArmedReads >= 1, Wait));

        rig.Redis.FailNext = new RedisConnectionException(ConnectionFailureType.SocketFailure, CommandFlags.None, "cut off");
        rig.Redis.Append(rig.Keys[0]);
        Assert.True(await Eventually.True(() => rig.Reports.Contains("faulted"), Wait), "reported the fault");
        var setups = rig.Setups;

        // The retry delay passes by the endpoint's clock; then it sets up, reads its own pending entries and new ones.
        for (var i = 0; i < 20 && rig.Setups == setups; i++)
        {
            rig.Time.Advance(TimeSpan.FromSeconds(1));
            await Eventually.True(() => rig.Setups > setups, TimeSpan.FromMilliseconds(100));
        }

        Assert.True(rig.Setups > setups, "set up again");
        Assert.Equal(rig.Keys[0], (await rig.Take()).Stream.Key);
        Assert.Single(rig.Reports, x => x == "faulted");
        Assert.Equal(2, rig.Reports.Count(x => x == "reading"));
    }

    [Fact]
    public async Task A_round_reads_one_entry_of_each_stream_even_with_less_room_than_streams()
    {
        await using var rig = new ReceiveRig(prefetch: 2, streams: 3);
        rig.Start();
        Assert.True(await Eventually.True(() => rig.Redis.ArmedReads >= 1, Wait));

        // One held, one free: the next entry still comes, whichever stream it is in.
        rig.Redis.Append(rig.Keys[1]);
        var first = await rig.Take();
        rig.Redis.Append(rig.Keys[2]);
        var second = await rig.Take();

        Assert.Equal(rig.Keys[1], first.Stream.Key);
        Assert.Equal(rig.Keys[2], second.Stream.Key);
        Assert.Equal(2, rig.Buffer.Count);
    }
}
