namespace MassTransit.RedisStreams.Tests.Unit;

using System;
using System.Linq;
using RedisStreams.Redis;
using StackExchange.Redis;
using Transport;
using Xunit;


/// <summary>How a read round shares the free capacity between an endpoint's streams.</summary>
public class ReadPlanTests
{
    [Fact]
    public void Streams_that_were_all_empty_get_the_same_count_so_that_the_read_is_one_command()
    {
        var streams = Streams((1, true), (2, true), (3, true));

        Assert.Equal([5, 5, 5], GroupReader.Plan(streams, 16, 0));
    }

    [Fact]
    public void One_busy_stream_gets_what_the_empty_ones_do_not_need()
    {
        var streams = Streams((1, true), (9, false), (3, true));

        Assert.Equal([1, 14, 1], GroupReader.Plan(streams, 16, 0));
    }

    [Fact]
    public void The_stream_that_holds_the_others_back_gets_the_first_entry_and_the_remainder()
    {
        var streams = Streams((7, false), (2, false), (5, false));

        var counts = GroupReader.Plan(streams, 16, 0);

        Assert.Equal(16, counts.Sum());
        Assert.Equal(6, counts[1]);
        Assert.All(counts, x => Assert.InRange(x, 5, 6));
    }

    [Fact]
    public void With_less_capacity_than_streams_the_one_holding_the_others_back_is_read_first()
    {
        var streams = Streams((8, true), (9, false), (4, true));

        Assert.Equal([0, 0, 1], GroupReader.Plan(streams, 1, 0));
        Assert.Equal([0, 1, 1], GroupReader.Plan(streams, 2, 0));
    }

    [Fact]
    public void Partial_rounds_over_streams_found_empty_take_them_in_turn()
    {
        var streams = Streams((5, true), (5, true), (5, true));

        var read = Enumerable.Range(0, 3).Select(rotation => Array.IndexOf(GroupReader.Plan(streams, 1, rotation), 1)).ToArray();

        Assert.Equal([0, 1, 2], read);
    }

    [Fact]
    public void No_capacity_reads_nothing()
    {
        Assert.Equal([0, 0], GroupReader.Plan(Streams((1, false), (2, true)), 0, 0));
    }

    static ReceiveStream[] Streams(params (ulong UnreadAfter, bool Drained)[] states)
    {
        return states.Select((state, i) =>
        {
            RedisKey key = "s" + i;
            return new ReceiveStream(key, false)
            {
                UnreadAfter = new StreamEntryId(state.UnreadAfter, 0),
                Drained = state.Drained
            };
        }).ToArray();
    }
}
