namespace MassTransit.RedisStreams.Tests.Redis.Scripts;

using System.Threading.Tasks;
using RedisStreams.Redis;
using Xunit;


/// <summary>hold-host-records.lua and remove-host-records.lua: a hold never shortens, a removal spares what was held again.</summary>
public class HostRecordScriptTests :
    ScriptTest
{
    [Fact]
    public async Task A_hold_stores_a_record_given_with_its_json_and_never_shortens_an_earlier_hold()
    {
        await Start();
        var hosts = Key("hosts");
        var held = Key("held");

        var before = await ServerMs();
        Assert.Equal(1, (long)await Run(RedisScript.HoldHostRecords, [hosts, held], 60_000, "a", "{\"host\":1}"));
        var longHold = (long)(await Db.SortedSetScoreAsync(held, "a"))!;
        Assert.InRange(longHold, before + 60_000, await ServerMs() + 60_000);
        Assert.Equal("{\"host\":1}", (string?)await Db.HashGetAsync(hosts, "a"));

        // Shorter: kept as it was. The JSON of a stored record is not replaced.
        Assert.Equal(1, (long)await Run(RedisScript.HoldHostRecords, [hosts, held], 1_000, "a", "{\"other\":1}"));
        Assert.Equal(longHold, (long)(await Db.SortedSetScoreAsync(held, "a"))!);
        Assert.Equal("{\"host\":1}", (string?)await Db.HashGetAsync(hosts, "a"));

        // A record that is not stored, given without JSON, is not held; given with it, it is stored again.
        Assert.Equal(1, (long)await Run(RedisScript.HoldHostRecords, [hosts, held], 1_000, "gone", "", "a", ""));
        Assert.Null(await Db.SortedSetScoreAsync(held, "gone"));
        Assert.False(await Db.HashExistsAsync(hosts, "gone"));
    }

    [Fact]
    public async Task Removal_takes_the_given_records_whose_hold_still_ends_before_the_cutoff()
    {
        await Start();
        var hosts = Key("hosts");
        var held = Key("held");
        foreach (var (id, until) in new[] { ("old", 1_000L), ("edge", 2_000L), ("held-again", 5_000L), ("not-given", 1_000L) })
        {
            await Db.HashSetAsync(hosts, id, "{}");
            await Db.SortedSetAddAsync(held, id, until);
        }

        // "held-again" was a candidate when retention looked, and was held again since: it stays.
        Assert.Equal(1, (long)await Run(RedisScript.RemoveHostRecords, [hosts, held], 2_000, "old", "edge", "held-again", "unknown"));

        Assert.False(await Db.HashExistsAsync(hosts, "old"));
        Assert.Null(await Db.SortedSetScoreAsync(held, "old"));
        Assert.True(await Db.HashExistsAsync(hosts, "edge"));
        Assert.True(await Db.HashExistsAsync(hosts, "held-again"));
        Assert.True(await Db.HashExistsAsync(hosts, "not-given"));
    }
}
