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

    [Fact]
    public async Task A_plan_says_what_the_trim_then_removes_and_changes_nothing()
    {
        await Start();
        var plain = await Stream("events:plan-plain", 10);
        var lagging = await Stream("events:plan-lagging", 10);
        await Group(lagging, "fast", read: 10, acknowledge: 10);
        await Group(lagging, "slow", read: 2, acknowledge: 2);
        var aged = await Stream("events:plan-aged", 6);
        await Group(aged, "reader", read: 2, acknowledge: 2);
        var pending = await Stream("events:plan-pending", 10);
        await Group(pending, "holder", read: 10, acknowledge: 0);
        var both = await Stream("events:plan-both", 10);
        await Group(both, "done", read: 10, acknowledge: 10);
        await Task.Delay(5);

        foreach (var (stream, maxEntries, maxAgeMs, target) in new[]
        {
            (plain, 4L, -1L, "MAXLEN 4"), (lagging, 4, -1, "MINID"), (aged, -1, 0, "MINID"), (pending, 2, -1, "MINID"), (both, 3, 3_600_000, "MAXLEN 3")
        })
        {
            var before = await Db.StreamRangeAsync(stream);
            var plan = await Plan(stream, maxEntries, maxAgeMs);
            Assert.Equal(before.Select(x => x.Id), (await Db.StreamRangeAsync(stream)).Select(x => x.Id));

            var trimmed = await Trim(stream, maxEntries, maxAgeMs);
            Assert.True((trimmed.Removed, trimmed.KeptFor, trimmed.Note) == (plan.Removed, plan.KeptFor, plan.Note), $"{stream}: plan {plan}, trim {trimmed}");
            Assert.StartsWith(target, plan.Target);
            Assert.Equal("exact", plan.Count);
        }
    }

    [Fact]
    public async Task A_plan_names_the_first_entry_a_lagging_group_still_needs_as_the_target()
    {
        await Start();
        var stream = await Stream("events:plan-target", 10);
        await Group(stream, "slow", read: 3, acknowledge: 3);
        var ids = (await Db.StreamRangeAsync(stream)).Select(x => (string)x.Id!).ToArray();

        var plan = await Plan(stream, 2, -1);

        Assert.Equal((3L, "slow", "", "MINID " + StreamEntryId.Parse(ids[2]).Next, "exact"), plan);
    }

    [Fact]
    public async Task A_plan_counts_from_the_newer_end_when_the_older_holds_more_than_the_limit_and_says_at_least_past_both()
    {
        await Start();
        var stream = await Stream("events:plan-count", 12);

        // Eleven of twelve go by age (everything is older than 0 ms, but for the group's last one): more than the limit of 5
        // from the older end, one from the newer.
        await Group(stream, "reader", read: 11, acknowledge: 11);
        await Task.Delay(5);
        Assert.Equal((11L, "reader", "", "exact"), Short(await Plan(stream, -1, 0, probe: 5)));

        // Six of twelve: more than the limit of 5 from either end.
        var half = await Stream("events:plan-half", 12);
        await Group(half, "reader", read: 6, acknowledge: 6);
        await Task.Delay(5);
        var plan = await Plan(half, -1, 0, probe: 5);
        Assert.Equal((6L, "reader", "", "at-least"), Short(plan));
        Assert.Equal(12, await Db.StreamLengthAsync(half));
        Assert.Equal(6L, (await Trim(half, -1, 0, probe: 5)).Removed);
    }

    static (long, string, string, string) Short((long Removed, string KeptFor, string Note, string Target, string Count) plan) =>
        (plan.Removed, plan.KeptFor, plan.Note, plan.Count);

    async Task<(long Removed, string KeptFor, string Note, string Target, string Count)> Plan(RedisKey stream, long maxEntries, long maxAgeMs, int probe = 1000)
    {
        var result = (RedisResult[])(await Run(RedisScript.Trim, [stream], maxEntries, maxAgeMs, probe, "plan"))!;
        return ((long)result[0], (string)result[1]!, (string)result[2]!, (string)result[3]!, (string)result[4]!);
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
