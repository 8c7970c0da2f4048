namespace MassTransit.RedisStreams.Tests.Redis.Scripts;

using System.Linq;
using System.Threading.Tasks;
using RedisStreams.Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>trim.lua: by length and by age, never past what a group still needs.</summary>
public class TrimScriptTests :
    ScriptTest
{
    [Fact]
    public async Task Without_groups_a_stream_is_trimmed_to_its_length()
    {
        await Start();
        var stream = await Stream("events:plain", 10);

        var result = await Trim(stream, 4, -1);

        Assert.Equal((6L, "", ""), result);
        Assert.Equal(4, await Db.StreamLengthAsync(stream));
    }

    [Fact]
    public async Task A_group_that_has_read_everything_holds_nothing_back()
    {
        await Start();
        var stream = await Stream("events:read", 10);
        await Group(stream, "done", read: 10, acknowledge: 10);

        Assert.Equal((6L, "", ""), await Trim(stream, 4, -1));
    }

    [Fact]
    public async Task A_group_lagging_behind_by_more_than_the_limit_keeps_everything_it_has_not_read()
    {
        await Start();
        var stream = await Stream("events:lagging", 10);
        await Group(stream, "fast", read: 10, acknowledge: 10);
        await Group(stream, "slow", read: 2, acknowledge: 2);

        // "slow" lags by 8, more than the 4 kept: the stream is trimmed to the first entry it has not read.
        var result = await Trim(stream, 4, -1);

        Assert.Equal((2L, "slow", ""), result);
        Assert.Equal(8, await Db.StreamLengthAsync(stream));
    }

    [Fact]
    public async Task A_pending_entry_is_kept_whatever_the_group_read_after_it()
    {
        await Start();
        var stream = await Stream("events:pending", 10);
        await Group(stream, "holder", read: 10, acknowledge: 0);
        var ids = (await Db.StreamRangeAsync(stream)).Select(x => x.Id).ToArray();
        await Db.StreamAcknowledgeAsync(stream, "holder", ids[3..]);

        var result = await Trim(stream, 2, -1);

        Assert.Equal((0L, "holder", ""), result);
        Assert.Equal(10, await Db.StreamLengthAsync(stream));
    }

    [Fact]
    public async Task By_age_the_stream_is_trimmed_to_the_safe_point_when_that_is_older()
    {
        await Start();
        var stream = await Stream("events:aged", 6);
        await Group(stream, "reader", read: 2, acknowledge: 2);

        // Everything is older than 0 ms; the reader still needs the last four.
        var result = await Trim(stream, -1, 0);

        Assert.Equal((2L, "reader", ""), result);
        Assert.Equal(4, await Db.StreamLengthAsync(stream));
    }

    [Fact]
    public async Task When_deciding_would_mean_counting_past_the_probe_limit_nothing_is_trimmed_by_length()
    {
        await Start();
        var stream = await Stream("events:uncounted", 13);
        await Group(stream, "reader", read: 0, acknowledge: 0);

        // An entry deleted after where the group stands leaves Redis unable to tell the group's lag; the probe stops at 3.
        await Db.StreamDeleteAsync(stream, [(await Db.StreamRangeAsync(stream))[6].Id]);
        Assert.Null((await Db.StreamGroupInfoAsync(stream)).Single().Lag);
        var result = await Trim(stream, 5, -1, probe: 3);

        Assert.Equal((0L, "reader", "uncounted"), result);
        Assert.Equal(12, await Db.StreamLengthAsync(stream));
    }

    async Task<RedisKey> Stream(string name, int entries)
    {
        var stream = Key(name);
        for (var i = 0; i < entries; i++)
            await Db.StreamAddAsync(stream, "n", i);
        return stream;
    }

    async Task Group(RedisKey stream, string group, int read, int acknowledge)
    {
        await Db.StreamCreateConsumerGroupAsync(stream, group, "0");
        if (read == 0)
            return;

        var entries = await Db.StreamReadGroupAsync(stream, group, "c", ">", read);
        if (acknowledge > 0)
            await Db.StreamAcknowledgeAsync(stream, group, entries.Take(acknowledge).Select(x => x.Id).ToArray());
    }

    async Task<(long Removed, string KeptFor, string Note)> Trim(RedisKey stream, long maxEntries, long maxAgeMs, int probe = 1000)
    {
        var result = (RedisResult[])(await Run(RedisScript.Trim, [stream], maxEntries, maxAgeMs, probe))!;
        return ((long)result[0], (string)result[1]!, (string)result[2]!);
    }
}
