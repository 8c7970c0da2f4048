namespace MassTransit.RedisStreams.Tests.Redis.Scripts;

using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using RedisStreams.Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>append.lua: every mode, every branch.</summary>
public class AppendScriptTests :
    ScriptTest
{
    RedisKey[] Keys(RedisKey stream, long window = 0) =>
    [
        stream, Beside(stream, "wake"), Key("entry-clock"), window > 0 ? Beside(stream, "sent:2") : stream, window > 0 ? Beside(stream, "sent:1") : stream,
        Beside(stream, "delayed"), Beside(stream, "delayed-entries")
    ];

    RedisKey Beside(RedisKey stream, string suffix) => Redis.KeyPrefix + ":{" + stream.ToString() + "}:" + suffix;

    static RedisValue[] Entries(bool onlyIfExists, long window, params (string Key, string Body)[] entries) =>
    [
        "entries", "PUBLISH", "wake-channel", onlyIfExists ? "1" : "0", window,
        ..entries.SelectMany(x => new RedisValue[] { x.Key, 1, "body", x.Body })
    ];

    [Fact]
    public async Task Move_appends_each_entry_the_source_still_has_and_deletes_it_there_in_the_same_step()
    {
        await Start();
        var source = Key("queue:m_error");
        var target = Key("queue:m");
        var kept = (string)(await Db.StreamAddAsync(source, "body", "1"))!;
        var gone = (string)(await Db.StreamAddAsync(source, "body", "2"))!;
        await Db.StreamDeleteAsync(source, [gone]);
        await Db.StringSetAsync(Beside(target, "wake"), "1");

        RedisKey[] keys = [target, Beside(target, "wake"), Key("entry-clock"), source, target, target, target];
        var result = (RedisResult[])(await Run(RedisScript.Append, keys, ["move", "PUBLISH", "wake-channel", kept, 1, "body", "one", gone, 1, "body", "two"]))!;

        var moved = await Db.StreamRangeAsync(target);
        Assert.Equal((string?)moved.Single().Id, (string?)result[0]);
        Assert.Equal("one", (string?)moved[0]["body"]);
        Assert.Equal(0, (long)result[1]);
        Assert.Equal(0, await Db.StreamLengthAsync(source));
        Assert.False(await Db.KeyExistsAsync(Beside(target, "wake")));
        Assert.Equal((string?)moved[0].Id, (string?)await Db.StringGetAsync(Key("entry-clock")));
    }

    [Fact]
    public async Task Entries_take_rising_IDs_from_one_clock_across_streams()
    {
        await Start();
        var a = Key("queue:a");
        var b = Key("queue:b");

        var first = (RedisValue[])(await Run(RedisScript.Append, Keys(a), Entries(false, 0, ("", "1"), ("", "2"))))!;
        var second = (RedisValue[])(await Run(RedisScript.Append, Keys(b), Entries(false, 0, ("", "3"))))!;

        var ids = first.Concat(second).Select(x => StreamEntryId.Parse(x)).ToList();
        Assert.Equal(ids.OrderBy(x => x), ids);
        Assert.Equal(3, ids.Distinct().Count());
        Assert.Equal(second[0].ToString(), (string?)await Db.StringGetAsync(Key("entry-clock")));
    }

    [Fact]
    public async Task An_entry_after_a_foreign_higher_ID_goes_under_an_ID_the_stream_picks_and_the_clock_follows()
    {
        await Start();
        var stream = Key("queue:foreign");
        var future = $"{DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds()}-5";
        await Db.StreamAddAsync(stream, "body", "x", future);

        var ids = (RedisValue[])(await Run(RedisScript.Append, Keys(stream), Entries(false, 0, ("", "1"), ("", "2"))))!;

        Assert.True(StreamEntryId.Parse(ids[0]) > StreamEntryId.Parse(future));
        Assert.True(StreamEntryId.Parse(ids[1]) > StreamEntryId.Parse(ids[0]));
        Assert.Equal(ids[1].ToString(), (string?)await Db.StringGetAsync(Key("entry-clock")));
    }

    [Fact]
    public async Task Only_if_the_stream_exists_appends_nothing_to_a_missing_stream_and_says_0()
    {
        await Start();
        var stream = Key("queue:missing");

        var results = (RedisResult[])(await Run(RedisScript.Append, Keys(stream), Entries(true, 0, ("", "1"))))!;

        Assert.Equal(0, (long)results[0]);
        Assert.False(await Db.KeyExistsAsync(stream));
        Assert.False(await Db.KeyExistsAsync(Key("entry-clock")));
    }

    [Fact]
    public async Task A_duplicate_key_seen_in_this_or_the_last_window_is_not_appended_again_and_the_window_expires()
    {
        await Start();
        var stream = Key("queue:dedup");
        var keys = Keys(stream, 60_000);
        await Db.SetAddAsync(keys[4], "old");

        var results = (RedisValue[])(await Run(RedisScript.Append, keys, Entries(false, 60_000, ("k1", "1"), ("k1", "again"), ("old", "2"), ("", "3"))))!;

        Assert.NotEqual("=", results[0].ToString());
        Assert.Equal(["=", "="], results[1..3].Select(x => x.ToString()));
        Assert.NotEqual("=", results[3].ToString());
        Assert.Equal(2, await Db.StreamLengthAsync(stream));
        Assert.True(await Db.SetContainsAsync(keys[3], "k1"));
        Assert.InRange((await Db.KeyTimeToLiveAsync(keys[3]))!.Value.TotalMilliseconds, 100_000, 120_000);
    }

    [Fact]
    public async Task A_call_looks_up_its_keys_in_both_windows_at_once_and_remembers_only_those_of_the_entries_it_appended()
    {
        await Start();
        var stream = Key("queue:lookup");
        var keys = Keys(stream, 60_000);
        await Db.SetAddAsync(keys[3], "current");
        await Db.SetAddAsync(keys[4], "previous");

        var results = (RedisValue[])(await Run(RedisScript.Append, keys,
            Entries(false, 60_000, ("a", "1"), ("current", "2"), ("b", "3"), ("previous", "4"), ("a", "5"), ("", "6"), ("", "7"))))!;

        Assert.Equal(["id", "=", "id", "=", "=", "id", "id"], results.Select(x => x == "=" ? "=" : "id"));
        Assert.Equal(["1", "3", "6", "7"], (await Db.StreamRangeAsync(stream)).Select(x => (string?)x["body"]));
        Assert.Equal(["a", "b", "current"], (await Db.SetMembersAsync(keys[3])).Select(x => (string?)x).Order());
        Assert.Equal(["previous"], (await Db.SetMembersAsync(keys[4])).Select(x => (string?)x));
    }

    [Fact]
    public async Task A_key_whose_entry_was_not_appended_is_forgotten()
    {
        await Start();
        var stream = Key("queue:never");
        var keys = Keys(stream, 60_000);

        await Run(RedisScript.Append, keys, Entries(true, 60_000, ("k1", "1")));

        Assert.False(await Db.SetContainsAsync(keys[3], "k1"));
    }

    [Fact]
    public async Task An_armed_wake_flag_is_cleared_and_one_wake_up_published_per_call_and_none_without_a_flag()
    {
        await Start();
        var stream = Key("queue:wake");
        var channel = RedisChannel.Literal(Redis.KeyPrefix + ":wake-test");
        var heard = new ConcurrentQueue<string>();
        var subscriber = Db.Multiplexer.GetSubscriber();
        await subscriber.SubscribeAsync(channel, (_, value) => heard.Enqueue(value!));
        RedisValue[] Arguments(params string[] bodies) => ["entries", "PUBLISH", channel.ToString(), "0", 0, ..bodies.SelectMany(x => new RedisValue[] { "", 1, "body", x })];

        await Db.StringSetAsync(Keys(stream)[1], "x");
        await Run(RedisScript.Append, Keys(stream), Arguments("1", "2", "3"));
        await Run(RedisScript.Append, Keys(stream), Arguments("4"));

        // A PING after the PUBLISH on the same server: once it answers, the message has been sent to the subscriber.
        await subscriber.PingAsync();
        Assert.True(await Eventually.True(() => !heard.IsEmpty, TimeSpan.FromSeconds(5)));
        Assert.Equal(["x"], heard);
        Assert.False(await Db.KeyExistsAsync(Keys(stream)[1]));
        await subscriber.UnsubscribeAsync(channel);
    }

    [Fact]
    public async Task Due_messages_are_appended_oldest_first_and_leave_the_delayed_set_in_the_same_step()
    {
        await Start();
        var stream = Key("queue:due");
        var keys = Keys(stream);
        var now = await ServerMs();
        await Hold(keys, "late", now + 3_600_000, onlyIfExists: false, mapped: false);
        await Hold(keys, "second", now - 10, onlyIfExists: false, mapped: true);
        await Hold(keys, "first", now - 20, onlyIfExists: false, mapped: false);

        var result = (RedisResult[])(await Run(RedisScript.Append, keys, "due", "PUBLISH", "wake-channel", 10))!;

        Assert.Equal(2, (long)result[0]);
        Assert.Equal(now + 3_600_000, (long)(double)result[1]);
        Assert.Equal(["second"], ((RedisValue[])result[2]!).Select(x => x.ToString()));
        Assert.Equal(["first", "second"], (await Db.StreamRangeAsync(stream)).Select(x => x["Lot"].ToString()));
        Assert.Equal(["late"], (await Db.SortedSetRangeByRankAsync(keys[5])).Select(x => x.ToString()));
        Assert.Equal(["late"], (await Db.HashKeysAsync(keys[6])).Select(x => x.ToString()));
    }

    [Fact]
    public async Task A_due_message_for_a_stream_that_must_exist_is_dropped_when_it_does_not_and_nothing_left_says_minus_1()
    {
        await Start();
        var stream = Key("queue:gone");
        var keys = Keys(stream);
        await Hold(keys, "reply", await ServerMs() - 1, onlyIfExists: true, mapped: false);

        var result = (RedisResult[])(await Run(RedisScript.Append, keys, "due", "PUBLISH", "wake-channel", 10))!;

        Assert.Equal(0, (long)result[0]);
        Assert.Equal(-1, (long)(double)result[1]);
        Assert.False(await Db.KeyExistsAsync(stream));
        Assert.Equal(0, await Db.SortedSetLengthAsync(keys[5]));
    }

    [Fact]
    public async Task A_due_message_the_stream_refuses_stays_held_and_those_moved_before_it_still_move_the_clock_and_wake_readers()
    {
        await Start();
        var stream = Key("queue:refused");
        var keys = Keys(stream);
        var now = await ServerMs();
        await Hold(keys, "first", now - 20, onlyIfExists: false, mapped: false);

        // A held message with a field and no value: XADD refuses it.
        await Db.SortedSetAddAsync(keys[5], "broken", now - 10);
        await Db.ScriptEvaluateAsync("return redis.call('HSET', KEYS[1], ARGV[1], cmsgpack.pack({'00', 'body'}))", [keys[6]], ["broken"]);
        await Db.StringSetAsync(keys[1], "x");

        await Assert.ThrowsAsync<RedisServerException>(() => Run(RedisScript.Append, keys, "due", "PUBLISH", "wake-channel", 10));

        var appended = await Db.StreamRangeAsync(stream);
        Assert.Equal(["first"], appended.Select(x => x["Lot"].ToString()));
        Assert.Equal(appended[0].Id.ToString(), (string?)await Db.StringGetAsync(Key("entry-clock")));
        Assert.False(await Db.KeyExistsAsync(keys[1]), "the armed wake flag was cleared for the message that moved");
        Assert.Equal(["broken"], (await Db.SortedSetRangeByRankAsync(keys[5])).Select(x => x.ToString()));
    }

    [Fact]
    public async Task An_unknown_mode_is_refused()
    {
        await Start();

        var exception = await Assert.ThrowsAsync<RedisServerException>(() => Run(RedisScript.Append, Keys(Key("queue:x")), "sideways", "PUBLISH", "c"));

        Assert.Contains("unknown mode", exception.Message, StringComparison.Ordinal);
    }

    async Task Hold(RedisKey[] keys, string token, long due, bool onlyIfExists, bool mapped)
    {
        var entry = new NewEntry();
        entry.Add("body", "{}");
        entry.Add("Lot", token);
        await Db.SortedSetAddAsync(keys[5], token, due);
        await Db.HashSetAsync(keys[6], token, PackedEntry.Pack(entry.Fields, onlyIfExists, mapped));
    }
}
