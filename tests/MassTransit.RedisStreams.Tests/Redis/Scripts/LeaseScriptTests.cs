namespace MassTransit.RedisStreams.Tests.Redis.Scripts;

using System.Linq;
using System.Threading.Tasks;
using RedisStreams.Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>exclusive-lease.lua and consumer-lease.lua: every mode and status, the quarantine and the gap limit.</summary>
public class LeaseScriptTests :
    ScriptTest
{
    const long Lease = 3000;
    const long Quarantine = 3000;
    const long GapLimit = 2000;
    const long Remembered = 60_000;

    RedisKey[] NameKeys => [Key("{consumers}:leases"), Key("{consumers}:holders")];

    [Fact]
    public async Task An_exclusive_lease_is_renewed_and_released_only_by_its_holder()
    {
        await Start();
        var lease = Key("retention-lease");
        await Db.StringSetAsync(lease, "a", null, When.NotExists);

        Assert.Equal(0, (long)await Run(RedisScript.ExclusiveLease, [lease], "renew", "b", 60_000));
        Assert.Equal(1, (long)await Run(RedisScript.ExclusiveLease, [lease], "renew", "a", 60_000));
        Assert.InRange((await Db.KeyTimeToLiveAsync(lease))!.Value.TotalSeconds, 50, 60);
        Assert.Equal(0, (long)await Run(RedisScript.ExclusiveLease, [lease], "release", "b"));
        Assert.Equal(1, (long)await Run(RedisScript.ExclusiveLease, [lease], "release", "a"));
        Assert.False(await Db.KeyExistsAsync(lease));
    }

    [Fact]
    public async Task A_name_is_taken_when_free_held_by_the_same_holder_or_out_of_quarantine()
    {
        await Start();
        var now = await ServerMs();

        Assert.Equal(1, (long)await Take("pod", "a"));
        Assert.Equal(1, (long)await Take("pod", "a"));
        Assert.Equal(0, (long)await Take("pod", "b"));

        // Ran out, but within the quarantine: still kept from others.
        await Db.SortedSetAddAsync(NameKeys[0], "pod", now - 1000);
        Assert.Equal(0, (long)await Take("pod", "b"));

        // Out of the quarantine: free.
        await Db.SortedSetAddAsync(NameKeys[0], "pod", now - Quarantine - 1000);
        Assert.Equal(1, (long)await Take("pod", "b"));
        Assert.Equal("b", (string?)await Db.HashGetAsync(NameKeys[1], "pod"));
    }

    [Fact]
    public async Task A_renewal_says_whether_it_renewed_took_the_name_again_or_lost_it_and_whether_its_own_lease_had_run_out()
    {
        await Start();
        var now = await ServerMs();
        await Take("pod", "a");

        Assert.Equal(1, await Status("pod", "a"));

        // Ran out in Redis since the previous renewal: renewed, and the name is among those that ran out.
        await Db.SortedSetAddAsync(NameKeys[0], "pod", now - 500);
        var lapsed = await Renew("pod", "a", since: now - 1000);
        Assert.Equal(1, lapsed.Status);
        Assert.Equal(["pod"], lapsed.Dead);
        Assert.Empty((await Renew("pod", "a", since: lapsed.Since)).Dead);

        // Redis lost it: taken again.
        await Db.HashDeleteAsync(NameKeys[1], "pod");
        Assert.Equal(2, await Status("pod", "a"));

        // Another holder has it now.
        await Db.HashSetAsync(NameKeys[1], "pod", "b");
        Assert.Equal(0, await Status("pod", "a"));
        Assert.Equal("b", (string?)await Db.HashGetAsync(NameKeys[1], "pod"));
    }

    [Fact]
    public async Task A_renewal_reports_the_names_that_ran_out_since_the_previous_one_once()
    {
        await Start();
        var now = await ServerMs();
        await Take("me", "a");
        await Take("dead", "d");
        await Db.SortedSetAddAsync(NameKeys[0], "dead", now - 100);

        var first = await Renew("me", "a", since: now - 1000);
        var again = await Renew("me", "a", since: first.Since);

        Assert.Equal(["dead"], first.Dead);
        Assert.Empty(again.Dead);
    }

    [Fact]
    public async Task A_renewal_after_a_gap_longer_than_the_limit_reports_no_deaths_until_a_lease_time_later()
    {
        await Start();
        var now = await ServerMs();
        await Take("me", "a");
        await Take("dead", "d");
        await Db.SortedSetAddAsync(NameKeys[0], "dead", now - 100);

        // The previous renewal was 5 s ago, more than the gap limit: this instance (or Redis) stood still, so may the others.
        var renewal = await Renew("me", "a", since: now - 5000);

        Assert.Empty(renewal.Dead);
        Assert.InRange(renewal.Since, renewal.Now + Lease - 1, renewal.Now + Lease + 1);
    }

    [Fact]
    public async Task A_first_renewal_looks_back_and_old_leases_are_forgotten()
    {
        await Start();
        var now = await ServerMs();
        await Take("me", "a");
        await Take("recent", "r");
        await Take("ancient", "x");
        await Db.SortedSetAddAsync(NameKeys[0], "recent", now - 10_000);
        await Db.SortedSetAddAsync(NameKeys[0], "ancient", now - 2 * Remembered);

        var renewal = await Renew("me", "a", since: -30_000, forget: true);

        Assert.Equal(["recent"], renewal.Dead);
        Assert.Null(await Db.SortedSetScoreAsync(NameKeys[0], "ancient"));
        Assert.True((await Db.HashGetAsync(NameKeys[1], "ancient")).IsNull);
    }

    [Fact]
    public async Task A_name_is_released_only_by_its_holder()
    {
        await Start();
        await Take("pod", "a");

        Assert.Equal(0, (long)await Run(RedisScript.ConsumerLease, NameKeys, "release", "pod", "b"));
        Assert.Equal(1, (long)await Run(RedisScript.ConsumerLease, NameKeys, "release", "pod", "a"));
        Assert.Null(await Db.SortedSetScoreAsync(NameKeys[0], "pod"));
    }

    Task<RedisResult> Take(string name, string holder) => Run(RedisScript.ConsumerLease, NameKeys, "take", name, holder, Lease, Quarantine);

    async Task<long> Status(string name, string holder) => (await Renew(name, holder, since: await ServerMs())).Status;

    async Task<(long Since, long Status, string[] Dead, long Now)> Renew(string name, string holder, long since, bool forget = false)
    {
        var result = (RedisResult[])(await Run(RedisScript.ConsumerLease, NameKeys, "renew", name, holder, Lease, Quarantine, GapLimit, since,
            forget ? Remembered : 0))!;
        return ((long)result[0], (long)result[1], ((RedisValue[])result[2]!).Select(x => x.ToString()).ToArray(), (long)result[3]);
    }
}
