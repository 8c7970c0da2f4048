namespace MassTransit.RedisStreams.Tests.Unit;

using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using RedisStreams.Transport;
using Xunit;


/// <summary>Whether an instance still stands on its lease, by its own clock.</summary>
public class LeaseStandingTests
{
    static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);
    static readonly TimeSpan SafeAge = TimeSpan.FromSeconds(2);

    [Fact]
    public void The_lease_stands_until_the_last_renewal_is_older_than_the_safe_age()
    {
        var time = new FakeTimeProvider();
        var standing = new LeaseStanding(time, SafeAge);
        Assert.False(standing.IsStanding);

        standing.Renewed(standing.Now(), lapsedInRedis: false);
        time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.True(standing.IsStanding);

        time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.False(standing.IsStanding);
    }

    [Fact]
    public void A_renewal_sent_more_than_a_lease_after_the_previous_one_moves_the_epoch_on_and_says_so()
    {
        var time = new FakeTimeProvider();
        var standing = new LeaseStanding(time, SafeAge);
        var lapses = 0;
        standing.Lapsed += () => lapses++;

        standing.Renewed(standing.Now(), lapsedInRedis: false);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(standing.Renewed(standing.Now(), lapsedInRedis: false));

        // Frozen for 8 s: the next renewal is far too late.
        time.Advance(TimeSpan.FromSeconds(8));
        Assert.True(standing.Renewed(standing.Now(), lapsedInRedis: false));

        Assert.Equal(1, standing.Epoch);
        Assert.Equal(1, lapses);
        Assert.True(standing.IsStanding);
    }

    [Fact]
    public void A_renewal_that_Redis_found_run_out_moves_the_epoch_on_however_soon_it_came()
    {
        var time = new FakeTimeProvider();
        var standing = new LeaseStanding(time, SafeAge);

        standing.Renewed(standing.Now(), lapsedInRedis: false);
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.True(standing.Renewed(standing.Now(), lapsedInRedis: true));
        Assert.Equal(1, standing.Epoch);
    }

    [Fact]
    public void A_renewal_sent_more_than_the_safe_age_after_the_previous_one_moves_the_epoch_on()
    {
        var time = new FakeTimeProvider();
        var standing = new LeaseStanding(time, SafeAge);

        standing.Renewed(standing.Now(), lapsedInRedis: false);
        time.Advance(TimeSpan.FromSeconds(2.5));

        // The lease stopped standing meanwhile: it may have run out in Redis, whose clock is not this instance's.
        Assert.True(standing.Renewed(standing.Now(), lapsedInRedis: false));
        Assert.Equal(1, standing.Epoch);
    }

    [Fact]
    public async Task Once_the_lease_no_longer_stands_nothing_may_start_until_a_renewal_and_then_only_in_the_new_epoch()
    {
        var time = new FakeTimeProvider();
        var standing = new LeaseStanding(time, SafeAge);
        standing.Renewed(standing.Now(), lapsedInRedis: false);
        Assert.True(standing.MayStartUnchecked(0));
        Assert.True(standing.WhenStanding(CancellationToken.None).IsCompletedSuccessfully);

        time.Advance(TimeSpan.FromSeconds(2.5));
        Assert.False(standing.MayStartUnchecked(0));
        var waiting = standing.WhenStanding(CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        standing.Renewed(standing.Now(), lapsedInRedis: false);
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.False(standing.MayStartUnchecked(0));
        Assert.True(standing.MayStartUnchecked(1));
    }

    [Fact]
    public async Task Waiting_for_the_lease_ends_when_the_endpoint_stops()
    {
        var time = new FakeTimeProvider();
        var standing = new LeaseStanding(time, SafeAge);
        using var stopping = new CancellationTokenSource();

        var waiting = standing.WhenStanding(stopping.Token);
        await stopping.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(5)));
    }
}
