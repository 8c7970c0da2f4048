namespace MassTransit.RedisStreams.Tests.Cli;

using System;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using History;
using Infrastructure;
using Redis;
using RedisStreams.Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// replay, rewind, trim, scheduled cancel and migrate-keys as every command that changes data: a dry run says what it would do
/// and changes nothing, in JSON with <c>dryRun: true</c>; without --yes on standard input that is not a terminal it refuses with
/// exit code 2 and changes nothing; with --yes it does it.
/// </summary>
public class CliDryRunTests
{
    [Fact]
    public async Task Replay_says_how_many_events_from_which_to_which_it_would_append_to_which_queue()
    {
        var (redis, ids) = await CliTests.Publish(4);
        var db = await redis.Database();
        var queue = redis.Key("queue:ledger");
        var before = await db.StreamLengthAsync(queue);
        string[] command = ["replay", "LotSold", "--endpoint", "ledger", "--from", ids[1], "--count", "2"];

        var json = await Run(redis, [..command, "--dry-run", "-o", "json"]);
        Assert.Equal(2, json.GetProperty("events").GetInt64());
        Assert.Equal(ids[1], json.GetProperty("firstId").GetString());
        Assert.Equal(ids[2], json.GetProperty("lastId").GetString());
        Assert.Equal("queue:ledger", json.GetProperty("queue").GetString());

        var text = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, [..command, "--dry-run"]);
        Assert.Contains($"Dry run: would append 2 LotSold events ({ids[1]} .. {ids[2]}) to queue:ledger; nothing changed.", text.Output);

        await Refused(redis, command);
        Assert.Equal(before, await db.StreamLengthAsync(queue));

        var done = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, [..command, "--yes"]);
        Assert.True(done.ExitCode == 0, done.ToString());
        var copies = (await db.StreamRangeAsync(queue)).Skip((int)before).Select(x => (string)x["MT-Redis-Replay-Entry"]!);
        Assert.Equal([ids[1], ids[2]], copies);
    }

    [Fact]
    public async Task Rewind_lists_each_stream_with_where_the_group_stands_and_where_it_would_be_set()
    {
        var (redis, ids) = await CliTests.Publish(3);
        var db = await redis.Database();
        var stream = redis.Key("events:LotSold");
        async Task<string> Position() => (await db.StreamGroupInfoAsync(stream)).Single(x => x.Name == "ledger").LastDeliveredId!;
        var now = await Position();
        string[] command = ["rewind", "ledger", "--to", ids[1]];

        var json = await Run(redis, [..command, "--dry-run", "-o", "json"]);
        var row = Assert.Single(json.GetProperty("streams").EnumerateArray());
        Assert.Equal(stream.ToString(), row.GetProperty("stream").GetString());
        Assert.Equal(now, row.GetProperty("lastDeliveredId").GetString());
        Assert.Equal(StreamEntryId.Parse(ids[1]).Previous.ToString(), row.GetProperty("wouldSetTo").GetString());

        var text = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, [..command, "--dry-run"]);
        Assert.Contains("Dry run: would move ledger in 1 streams; nothing changed.", text.Output);
        Assert.Contains(now, text.Output);

        await Refused(redis, command);
        Assert.Equal(now, await Position());

        var done = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, [..command, "--yes"]);
        Assert.True(done.ExitCode == 0, done.ToString());
        Assert.Equal(StreamEntryId.Parse(ids[1]).Previous.ToString(), await Position());
    }

    [Fact]
    public async Task Trim_reports_per_stream_what_the_policy_would_remove_and_which_group_holds_it_back()
    {
        var (redis, ids) = await CliTests.Publish(6);
        var db = await redis.Database();
        var stream = redis.Key("events:LotSold");

        // A retired reader that has read two of six holds the other four.
        var held = redis.Key("events:LotHeld");
        for (var i = 0; i < 6; i++)
            await db.StreamAddAsync(held, "n", i);
        await db.StreamCreateConsumerGroupAsync(held, "slow", "0");
        await db.StreamReadGroupAsync(held, "slow", "c", ">", 2);
        await db.StreamAcknowledgeAsync(held, "slow", (await db.StreamRangeAsync(held, count: 2)).Select(x => x.Id).ToArray());
        var heldIds = (await db.StreamRangeAsync(held)).Select(x => (string)x.Id!).ToArray();
        string[] command = ["trim", "--events", "2"];

        var json = await Run(redis, [..command, "--dry-run", "-o", "json"]);
        var rows = json.GetProperty("streams").EnumerateArray().ToDictionary(x => x.GetProperty("stream").GetString()!);
        Assert.Equal(4, rows[stream.ToString()].GetProperty("wouldRemove").GetInt64());
        Assert.Equal(2, rows[stream.ToString()].GetProperty("downToLength").GetInt64());
        Assert.Equal(2, rows[held.ToString()].GetProperty("wouldRemove").GetInt64());
        Assert.Equal(StreamEntryId.Parse(heldIds[1]).Next.ToString(), rows[held.ToString()].GetProperty("downToId").GetString());
        Assert.Equal("slow", rows[held.ToString()].GetProperty("keptForGroup").GetString());
        Assert.Equal(6, json.GetProperty("totalWouldRemove").GetInt64());

        var text = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, [..command, "--dry-run"]);
        Assert.Contains("would remove 6 entries; nothing changed.", text.Output);
        Assert.Contains(text.Output.Split('\n'), x => x.Contains(held.ToString(), StringComparison.Ordinal) && x.Contains("slow", StringComparison.Ordinal));

        await Refused(redis, command);
        Assert.Equal(6, await db.StreamLengthAsync(stream));
        Assert.Equal(6, await db.StreamLengthAsync(held));

        var done = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, [..command, "--yes"]);
        Assert.True(done.ExitCode == 0, done.ToString());
        Assert.Equal(ids[4..], (await db.StreamRangeAsync(stream)).Select(x => (string)x.Id!));
        Assert.Equal(heldIds[2..], (await db.StreamRangeAsync(held)).Select(x => (string)x.Id!));
    }

    [Fact]
    public async Task Trim_dry_run_lists_the_groups_of_gone_endpoints_and_the_delayed_streams_it_would_remove()
    {
        var (redis, _) = await CliTests.Publish(1);
        var db = await redis.Database();
        var stream = redis.Key("events:LotSold");

        // A temporary endpoint whose queue stream is gone and whose group has no consumer left; a delayed stream nothing waits for.
        await db.StreamCreateConsumerGroupAsync(stream, "gone-endpoint", "0");
        var delayedStreams = redis.Key("delayed-streams");
        await db.SetAddAsync(delayedStreams, redis.Key("queue:nobody").ToString());

        var json = await Run(redis, ["trim", "--dry-run", "-o", "json"]);
        Assert.Equal([stream.ToString() + "/gone-endpoint"], json.GetProperty("wouldRemoveGroups").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(1, json.GetProperty("wouldRemoveDelayedStreams").GetInt32());
        Assert.Equal(2, (await db.StreamGroupInfoAsync(stream)).Length);
        Assert.True(await db.SetContainsAsync(delayedStreams, redis.Key("queue:nobody").ToString()));

        var text = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "trim", "--dry-run");
        Assert.Contains($"Would remove the group of an endpoint that is gone: {stream}/gone-endpoint", text.Output);
        Assert.Contains("Would forget 1 delayed streams nothing waits for.", text.Output);

        await Refused(redis, ["trim"]);
        Assert.Equal(2, (await db.StreamGroupInfoAsync(stream)).Length);

        var done = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "trim", "--yes", "-o", "json");
        Assert.True(done.ExitCode == 0, done.ToString());
        Assert.Equal("ledger", Assert.Single(await db.StreamGroupInfoAsync(stream)).Name);
        Assert.False(await db.SetContainsAsync(delayedStreams, redis.Key("queue:nobody").ToString()));
    }

    [Fact]
    public async Task Scheduled_cancel_shows_the_waiting_message_it_would_cancel()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix));
        await bus.StartAsync();
        ScheduledMessage<LotSold> scheduled;
        var due = DateTime.UtcNow.AddHours(1);
        try
        {
            scheduled = await bus.CreateDelayedMessageScheduler().ScheduleSend(new Uri("queue:ledger"), due, new LotSold(1, "a", 1m));
        }
        finally
        {
            await bus.StopAsync();
        }

        var delayed = redis.Beside("queue:ledger", "delayed");
        var token = scheduled.TokenId.ToString("D");

        var json = await Run(redis, ["scheduled", "cancel", token, "--dry-run", "-o", "json"]);
        Assert.Equal("queue:ledger", json.GetProperty("stream").GetString());
        Assert.Contains("LotSold", json.GetProperty("messageType").GetString());
        Assert.InRange(json.GetProperty("due").GetDateTimeOffset(), due.AddSeconds(-1), due.AddSeconds(1));
        Assert.False(json.GetProperty("cancelled").GetBoolean());

        var text = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "scheduled", "cancel", token, "--dry-run");
        Assert.Contains($"Dry run: would cancel {token}:", text.Output);
        Assert.Contains("for queue:ledger; nothing changed.", text.Output);

        await Refused(redis, ["scheduled", "cancel", token]);
        Assert.Equal(1, await db.SortedSetLengthAsync(delayed));

        var done = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "scheduled", "cancel", token, "--yes", "-o", "json");
        Assert.True(done.ExitCode == 0, done.ToString());
        Assert.True(JsonDocument.Parse(done.Output).RootElement.GetProperty("cancelled").GetBoolean());
        Assert.Equal(0, await db.SortedSetLengthAsync(delayed));
    }

    [Fact]
    public async Task Migrate_keys_lists_the_keys_it_would_move_from_and_to()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        RedisKey Legacy(string stream, string suffix) => "{" + redis.Key(stream).ToString() + "}:" + suffix;
        await db.HashSetAsync(Legacy("events:LotSold", "subscribers"), "ledger", "0");
        await db.StringSetAsync(Legacy("queue:ledger", "clock"), "9999999999999-5");
        await db.StringSetAsync(redis.Beside("queue:ledger", "clock"), "1700000000000-0");

        var json = await Run(redis, ["migrate-keys", "--dry-run", "-o", "json"]);
        var moves = json.GetProperty("moved").EnumerateArray().ToDictionary(x => x.GetProperty("from").GetString()!);
        Assert.Equal(2, moves.Count);
        Assert.Equal(redis.Beside("events:LotSold", "subscribers").ToString(), moves[Legacy("events:LotSold", "subscribers").ToString()].GetProperty("to").GetString());
        Assert.False(moves[Legacy("events:LotSold", "subscribers").ToString()].GetProperty("merge").GetBoolean());
        Assert.True(moves[Legacy("queue:ledger", "clock").ToString()].GetProperty("merge").GetBoolean());

        var text = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "migrate-keys", "--dry-run");
        Assert.Contains($"{Legacy("queue:ledger", "clock")} -> {redis.Beside("queue:ledger", "clock")} (merged into the key there)", text.Output);
        Assert.Contains("Dry run: would move 2 keys", text.Output);

        await Refused(redis, ["migrate-keys"]);
        Assert.True(await db.KeyExistsAsync(Legacy("events:LotSold", "subscribers")));
        Assert.Equal("1700000000000-0", (string?)await db.StringGetAsync(redis.Beside("queue:ledger", "clock")));

        var done = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "migrate-keys", "--yes");
        Assert.True(done.ExitCode == 0, done.ToString());
        Assert.Contains("Moved 2 keys", done.Output);
        Assert.False(await db.KeyExistsAsync(Legacy("events:LotSold", "subscribers")));
        Assert.Equal("9999999999999-5", (string?)await db.StringGetAsync(redis.Beside("queue:ledger", "clock")));
    }

    /// <summary>Runs a dry run, which must succeed with one JSON document that says it is one.</summary>
    static async Task<JsonElement> Run(RedisTestContext redis, string[] arguments)
    {
        var result = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, arguments);
        Assert.True(result.ExitCode == 0 && result.Error.Length == 0, string.Join(" ", arguments) + ": " + result);

        var document = JsonDocument.Parse(result.Output).RootElement;
        Assert.True(document.GetProperty("dryRun").GetBoolean(), string.Join(" ", arguments));
        return document;
    }

    /// <summary>Without --yes, on standard input that is not a terminal: refused with exit code 2 and a message that says why.</summary>
    static async Task Refused(RedisTestContext redis, string[] arguments)
    {
        var refused = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, arguments);
        Assert.True(refused.ExitCode == 2, string.Join(" ", arguments) + ": " + refused);
        Assert.StartsWith("redis-streams: refusing to change data without --yes", refused.Error);
    }
}
