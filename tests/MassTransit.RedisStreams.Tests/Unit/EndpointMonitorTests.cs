namespace MassTransit.RedisStreams.Tests.Unit;

using System;
using Microsoft.Extensions.Time.Testing;
using RedisStreams.Diagnostics;
using StackExchange.Redis;
using Xunit;


/// <summary>When an endpoint's samples make it Degraded: lag summed over its streams, the oldest pending entry ageing on.</summary>
public class EndpointMonitorTests
{
    static readonly DateTimeOffset Start = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    static EndpointMonitor Monitor(FakeTimeProvider time, long? lag, TimeSpan? age) =>
        new("orders", () => [(RedisKey)"queue:orders", (RedisKey)"events:OrderPlaced"], () => 3, lag, age, time);

    [Fact]
    public void Nothing_is_degraded_before_the_first_sample()
    {
        var monitor = Monitor(new FakeTimeProvider(Start), 0, TimeSpan.FromSeconds(1));

        Assert.Null(monitor.DescribeDegradation());
    }

    [Fact]
    public void The_lag_of_all_its_streams_counts_and_a_stream_that_cannot_tell_is_left_out()
    {
        var time = new FakeTimeProvider(Start);
        var monitor = Monitor(time, 100, null);

        monitor.Update([new GroupSample("queue:orders", 60, 0, null), new GroupSample("events:OrderPlaced", null, 0, null)], Start);
        Assert.Null(monitor.DescribeDegradation());
        Assert.Equal(60, monitor.TotalLag);

        monitor.Update([new GroupSample("queue:orders", 60, 0, null), new GroupSample("events:OrderPlaced", 41, 0, null)], Start);
        Assert.Equal("orders: lag 101 is over 100", monitor.DescribeDegradation());
    }

    [Fact]
    public void The_oldest_pending_entry_ages_between_samples_until_a_sample_finds_it_gone()
    {
        var time = new FakeTimeProvider(Start);
        var monitor = Monitor(time, null, TimeSpan.FromMinutes(5));

        monitor.Update([new GroupSample("queue:orders", 0, 1, Start - TimeSpan.FromMinutes(4))], Start);
        Assert.Null(monitor.DescribeDegradation());

        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("orders: oldest pending entry is 360 s old, over 300 s", monitor.DescribeDegradation());

        monitor.Update([new GroupSample("queue:orders", 0, 0, null)], time.GetUtcNow());
        Assert.Null(monitor.DescribeDegradation());
        Assert.Equal(3, monitor.Held);
    }
}
