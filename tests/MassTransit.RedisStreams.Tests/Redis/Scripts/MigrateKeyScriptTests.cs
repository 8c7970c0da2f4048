namespace MassTransit.RedisStreams.Tests.Redis.Scripts;

using System.Linq;
using System.Threading.Tasks;
using RedisStreams.Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>migrate-key.lua: a key moves to its new name, or merges into the new key that exists already.</summary>
public class MigrateKeyScriptTests :
    ScriptTest
{
    [Fact]
    public async Task A_key_without_a_new_one_is_renamed_and_a_missing_one_is_left()
    {
        await Start();
        var (from, to) = Names("wake");
        await Db.StringSetAsync(from, "x");

        Assert.Equal(1, (long)await Run(RedisScript.MigrateKey, [from, to], ""));
        Assert.Equal(0, (long)await Run(RedisScript.MigrateKey, [from, to], ""));
        Assert.Equal("x", (string?)await Db.StringGetAsync(to));
    }

    [Fact]
    public async Task Sets_sorted_sets_and_hashes_merge_and_the_new_values_win()
    {
        await Start();
        var (fromSet, toSet) = Names("sources");
        await Db.SetAddAsync(fromSet, ["a", "b"]);
        await Db.SetAddAsync(toSet, ["b", "c"]);
        var (fromZ, toZ) = Names("delayed");
        await Db.SortedSetAddAsync(fromZ, [new SortedSetEntry("t1", 100), new SortedSetEntry("t2", 300)]);
        await Db.SortedSetAddAsync(toZ, [new SortedSetEntry("t2", 200)]);
        var (fromHash, toHash) = Names("subscribers");
        await Db.HashSetAsync(fromHash, [new HashEntry("g1", "0"), new HashEntry("g2", "0")]);
        await Db.HashSetAsync(toHash, [new HashEntry("g2", "$")]);

        foreach (var (from, to) in new[] { (fromSet, toSet), (fromZ, toZ), (fromHash, toHash) })
            Assert.Equal(1, (long)await Run(RedisScript.MigrateKey, [from, to], ""));

        Assert.Equal(["a", "b", "c"], (await Db.SetMembersAsync(toSet)).Select(x => x.ToString()).Order());
        Assert.Equal(200, await Db.SortedSetScoreAsync(toZ, "t2"));
        Assert.Equal(100, await Db.SortedSetScoreAsync(toZ, "t1"));
        Assert.Equal("$", (string?)await Db.HashGetAsync(toHash, "g2"));
        Assert.Equal("0", (string?)await Db.HashGetAsync(toHash, "g1"));
        Assert.False(await Db.KeyExistsAsync(fromSet));
    }

    [Fact]
    public async Task A_clock_keeps_the_later_entry_ID()
    {
        await Start();
        var (from, to) = Names("clock");
        await Db.StringSetAsync(from, "200-3");
        await Db.StringSetAsync(to, "200-1");

        await Run(RedisScript.MigrateKey, [from, to], "clock");

        Assert.Equal("200-3", (string?)await Db.StringGetAsync(to));
    }

    (RedisKey From, RedisKey To) Names(string suffix)
    {
        var stream = Key("queue:x").ToString();
        return ("{" + stream + "}:" + suffix, Redis.KeyPrefix + ":{" + stream + "}:" + suffix);
    }
}
