namespace MassTransit.RedisStreams.Tests.Cli;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Contract;
using History;
using Infrastructure;
using Redis;
using RedisStreams.Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// The operator's tool, run as a process against a real Redis: what it prints, what it changes, and the exit codes scripts
/// rely on (0 done, 1 Redis failed, 2 wrong command line, 3 Redis unreachable, 4 no such stream or endpoint).
/// </summary>
public class CliTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Streams_lists_every_stream_with_its_length_groups_and_lag()
    {
        var (redis, _) = await Publish(3);

        var result = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "streams");

        Assert.True(result.ExitCode == 0, result.ToString());
        var row = Assert.Single(result.Output.Split('\n'), x => x.Contains("LotSold", StringComparison.Ordinal));
        Assert.Contains("events", row);
        Assert.Contains(" 3 ", row);
        Assert.Contains(result.Output.Split('\n'), x => x.Contains("queue", StringComparison.Ordinal) && x.Contains("ledger", StringComparison.Ordinal));
        Assert.Contains($"key prefix {redis.KeyPrefix}", result.Output);
    }

    [Fact]
    public async Task History_prints_the_events_as_JSON_newest_first_and_takes_a_window_and_a_count()
    {
        var (redis, ids) = await Publish(5);

        var result = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "history", "LotSold", "--count", "3");
        Assert.True(result.ExitCode == 0, result.ToString());

        var events = JsonDocument.Parse(result.Output).RootElement.EnumerateArray().ToList();
        Assert.Equal([5, 4, 3], events.Select(x => x.GetProperty("message").GetProperty("lot").GetInt32()));
        Assert.Equal(ids[^1], events[0].GetProperty("id").GetString());
        Assert.Contains("LotSold", events[0].GetProperty("headers").GetProperty("MT-MessageType").GetString());

        var window = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "history", "LotSold", "--from", ids[1], "--to", ids[2], "--oldest-first");
        Assert.Equal([2, 3], JsonDocument.Parse(window.Output).RootElement.EnumerateArray().Select(x => x.GetProperty("message").GetProperty("lot").GetInt32()));
    }

    [Fact]
    public async Task Info_describes_a_stream_and_its_groups()
    {
        var (redis, _) = await Publish(2);

        var result = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "info", "LotSold");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"{redis.KeyPrefix}:events:LotSold", result.Output);
        Assert.Contains(result.Output.Split('\n'), x => x.StartsWith("Length", StringComparison.Ordinal) && x.Contains('2'));
        Assert.Contains("ledger", result.Output);
    }

    [Fact]
    public async Task Replay_appends_marked_copies_to_the_endpoints_queue_and_says_how_many()
    {
        var (redis, ids) = await Publish(4);
        var db = await redis.Database();

        var result = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "replay", "LotSold", "--endpoint", "ledger", "--from", ids[1], "--yes");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Replayed 3 LotSold events to ledger.", result.Output);
        var copies = await db.StreamRangeAsync(redis.Key("queue:ledger"));
        Assert.Equal(ids.Skip(1), copies.Select(x => (string)x["MT-Redis-Replay-Entry"]!));
        Assert.Equal(4, await db.StreamLengthAsync(redis.Key("events:LotSold")));
    }

    [Fact]
    public async Task Rewind_moves_the_endpoints_group_back()
    {
        var (redis, ids) = await Publish(3);
        var db = await redis.Database();

        var result = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "rewind", "ledger", "--to", ids[1], "--yes");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Moved ledger in 1 streams.", result.Output);
        var group = (await db.StreamGroupInfoAsync(redis.Key("events:LotSold"))).Single(x => x.Name == "ledger");
        Assert.True(StreamEntryId.Parse(group.LastDeliveredId) < StreamEntryId.Parse(ids[1]));
        Assert.True(StreamEntryId.Parse(group.LastDeliveredId) >= StreamEntryId.Parse(ids[0]));
    }

    [Fact]
    public async Task Requeue_sends_failed_messages_back_to_the_queue()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        await db.StreamCreateConsumerGroupAsync(redis.Key("queue:ledger"), "ledger", "0", true);
        await db.StreamAddAsync(redis.Key("queue:ledger_error"), [new NameValueEntry("MT-Reason", "fault"), new NameValueEntry("body", "{}")]);
        await db.StreamAddAsync(redis.Key("queue:ledger_error"), [new NameValueEntry("MT-Reason", "fault"), new NameValueEntry("body", "{}")]);

        var result = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "requeue", "ledger", "--yes");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Requeued 2 messages", result.Output);
        Assert.Equal(0, await db.StreamLengthAsync(redis.Key("queue:ledger_error")));
        Assert.Equal(2, await db.StreamLengthAsync(redis.Key("queue:ledger")));
    }

    [Fact]
    public async Task Trim_applies_the_policies_given_and_reports_what_it_removed()
    {
        var (redis, _) = await Publish(6);
        var db = await redis.Database();

        // The ledger endpoint has handled all six (its consumer acknowledged them), so trimming the log to two is safe.
        var result = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "trim", "--events", "2", "--yes");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(result.Output.Split('\n'), x => x.Contains(redis.Key("events:LotSold").ToString(), StringComparison.Ordinal) && x.Contains('4'));
        Assert.Contains("removed 4 entries", result.Output);
        Assert.Equal(2, await db.StreamLengthAsync(redis.Key("events:LotSold")));
    }

    [Fact]
    public async Task Every_command_has_help()
    {
        foreach (var command in new[] { "streams", "info", "history", "replay", "rewind", "requeue", "trim", "peek", "move", "delete", "purge", "groups" })
        {
            var result = await CliProcess.Run((IReadOnlyDictionary<string, string>?)null, command, "--help");

            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("Usage:", result.Output);
            Assert.Contains("--connection", result.Output);
        }
    }

    [Fact]
    public async Task Connection_and_prefix_come_from_the_environment_too()
    {
        var (redis, _) = await Publish(1);

        var result = await CliProcess.Run(new Dictionary<string, string>
        {
            ["REDIS_STREAMS_CONNECTION"] = redis.ConnectionString,
            ["REDIS_STREAMS_KEY_PREFIX"] = redis.KeyPrefix
        }, "history", "LotSold");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Single(JsonDocument.Parse(result.Output).RootElement.EnumerateArray());
    }

    [Fact]
    public async Task Failures_are_one_line_and_an_exit_code_scripts_can_rely_on()
    {
        var redis = await RedisTestContext.Create();

        var unreachable = await CliProcess.Run("127.0.0.1:1", redis.KeyPrefix, "streams");
        Assert.Equal(3, unreachable.ExitCode);
        Assert.Single(unreachable.Error.Trim().Split('\n'));
        Assert.StartsWith("redis-streams: cannot connect to Redis at 127.0.0.1:1", unreachable.Error);

        var missing = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "history", "NoSuchType");
        Assert.Equal(4, missing.ExitCode);
        Assert.Equal($"redis-streams: there is no stream {redis.KeyPrefix}:events:NoSuchType.", missing.Error.Trim());

        var noEndpoint = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "rewind", "nobody", "--to", "1h");
        Assert.Equal(4, noEndpoint.ExitCode);
        Assert.Single(noEndpoint.Error.Trim().Split('\n'));

        var usage = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "history", "LotSold", "--from", "yesterday-ish");
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("'yesterday-ish' is not an entry ID", usage.Error);
        Assert.DoesNotContain("   at ", usage.Error + unreachable.Error + missing.Error + noEndpoint.Error);

        foreach (var (args, option) in new[]
        {
            (new[] { "history", "LotSold", "--count", "0" }, "--count"),
            (new[] { "replay", "LotSold", "--endpoint", "ledger", "-n", "0" }, "--count"),
            (new[] { "requeue", "ledger", "--limit", "-3" }, "--limit"),
            (new[] { "scheduled", "list", "--count", "0" }, "--count")
        })
        {
            var tooFew = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, args);
            Assert.Equal(2, tooFew.ExitCode);
            Assert.Contains($"{option} must be at least 1.", tooFew.Error);
        }
    }

    /// <summary>Publishes LotSold 1..count to a "ledger" endpoint that consumes them all; returns the entry IDs, oldest first.</summary>
    [Fact]
    public async Task Scheduled_lists_the_waiting_messages_first_due_first_and_cancels_one_by_its_token()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix));
        await bus.StartAsync();
        ScheduledMessage<LotSold> later, latest;
        try
        {
            var scheduler = bus.CreateDelayedMessageScheduler();
            var now = DateTime.UtcNow;
            latest = await scheduler.ScheduleSend(new Uri("queue:ledger"), now.AddHours(2), new LotSold(3, "c", 3m));
            later = await scheduler.ScheduleSend(new Uri("queue:ledger"), now.AddHours(1), new LotSold(2, "b", 2m));
            await scheduler.SchedulePublish(now.AddMinutes(30), new LotSold(1, "a", 1m));

            // A plain delayed send has a token too, though no scheduler handed it out.
            await (await bus.GetSendEndpoint(new Uri("queue:ledger"))).Send(new LotSold(4, "d", 4m), x => x.Delay = TimeSpan.FromHours(3));
        }
        finally
        {
            await bus.StopAsync();
        }

        var list = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "scheduled", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        var rows = list.Output.Split('\n').Where(x => x.Contains("LotSold", StringComparison.Ordinal)).ToArray();
        Assert.Equal(4, rows.Length);
        Assert.Contains("events:LotSold", rows[0]);
        Assert.Contains(later.TokenId.ToString("D"), rows[1]);
        Assert.Contains(latest.TokenId.ToString("D"), rows[2]);
        Assert.Contains("queue:ledger", rows[1]);
        Assert.Contains("4 of 4 waiting messages.", list.Output);

        var forQueue = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "scheduled", "list", "ledger", "--queue", "-n", "1");
        Assert.Contains(later.TokenId.ToString("D"), forQueue.Output);
        Assert.Contains("1 of 3 waiting messages.", forQueue.Output);

        var streams = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "streams");
        var ledger = Assert.Single(streams.Output.Split('\n'), x => x.Contains(" ledger ", StringComparison.Ordinal));
        Assert.Contains(" 3 ", ledger);
        Assert.Single(streams.Output.Split('\n'), x => x.Contains("LotSold", StringComparison.Ordinal) && x.Contains(" 1 ", StringComparison.Ordinal));

        var cancel = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "scheduled", "cancel", later.TokenId.ToString("D"), "--yes");
        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.Contains("queue:ledger", cancel.Output);
        Assert.Equal(2, await db.SortedSetLengthAsync(redis.Beside("queue:ledger", "delayed")));

        var plain = (string)(await db.SortedSetRangeByRankAsync(redis.Beside("queue:ledger", "delayed"), -1, -1))[0]!;
        Assert.Equal(0, (await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "scheduled", "cancel", plain, "--yes")).ExitCode);
        Assert.Equal(1, await db.SortedSetLengthAsync(redis.Beside("queue:ledger", "delayed")));

        var again = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "scheduled", "cancel", later.TokenId.ToString("D"), "--yes");
        Assert.Equal(4, again.ExitCode);
        Assert.Contains("no message with the token", again.Error);
    }

    [Fact]
    public async Task Migrate_keys_moves_the_keys_beside_a_prefixs_streams_under_the_prefix_and_what_waited_there_is_delivered()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var handled = new Recorder<int>();
        IBusControl Ledger() => Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("ledger", e => e.Handler<LotSold>(ctx =>
            {
                handled.Add(ctx.Message.Lot);
                return Task.CompletedTask;
            }));
        });

        // A message held for later, then the keys beside the queue renamed to the layout of earlier versions: the prefix
        // only inside the braces.
        var bus = Ledger();
        await bus.StartAsync();
        await (await bus.GetSendEndpoint(new Uri("queue:ledger"))).Send(new LotSold(7, "b", 1m), x => x.Delay = TimeSpan.FromMilliseconds(500));
        await bus.StopAsync();

        RedisKey Legacy(string stream, string suffix) => "{" + redis.Key(stream).ToString() + "}:" + suffix;
        await db.KeyRenameAsync(redis.Beside("queue:ledger", "delayed"), Legacy("queue:ledger", "delayed"));
        await db.KeyRenameAsync(redis.Beside("queue:ledger", "delayed-entries"), Legacy("queue:ledger", "delayed-entries"));
        await db.HashSetAsync(Legacy("events:LotSold", "subscribers"), [new HashEntry("ledger", "0"), new HashEntry("audit", "$")]);
        await db.HashSetAsync(redis.Beside("events:LotSold", "subscribers"), "ledger", "$");
        await db.StringSetAsync(Legacy("queue:ledger", "clock"), "9999999999999-5");
        await db.StringSetAsync(redis.Beside("queue:ledger", "clock"), "1700000000000-0");

        var result = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "migrate-keys", "--yes");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Moved 4 keys", result.Output);
        foreach (var suffix in new[] { "delayed", "delayed-entries", "clock" })
            Assert.False(await db.KeyExistsAsync(Legacy("queue:ledger", suffix)), suffix);
        Assert.False(await db.KeyExistsAsync(Legacy("events:LotSold", "subscribers")));
        Assert.Equal(1, await db.SortedSetLengthAsync(redis.Beside("queue:ledger", "delayed")));
        Assert.Equal("9999999999999-5", (string?)await db.StringGetAsync(redis.Beside("queue:ledger", "clock")));
        var subscribers = (await db.HashGetAllAsync(redis.Beside("events:LotSold", "subscribers"))).ToDictionary(x => (string)x.Name!, x => (string?)x.Value);
        Assert.Equal(new Dictionary<string, string?> { ["ledger"] = "$", ["audit"] = "$" }, subscribers);

        Assert.Contains("No key to move", (await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "migrate-keys")).Output);
        var withoutPrefix = await CliProcess.Run((IReadOnlyDictionary<string, string>?)null, "migrate-keys", "--connection", redis.ConnectionString);
        Assert.Equal(2, withoutPrefix.ExitCode);
        Assert.Contains("needs --prefix", withoutPrefix.Error);

        await db.KeyDeleteAsync(redis.Beside("queue:ledger", "clock"));
        bus = Ledger();
        await bus.StartAsync();
        try
        {
            await handled.WaitForCount(1);
            Assert.Equal([7], handled.Items);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    internal static async Task<(RedisTestContext Redis, string[] Ids)> Publish(int count)
    {
        var redis = await RedisTestContext.Create();
        var handled = new Recorder<int>();
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("ledger", e => e.Handler<LotSold>(ctx =>
            {
                handled.Add(ctx.Message.Lot);
                return Task.CompletedTask;
            }));
        });

        await bus.StartAsync();
        try
        {
            for (var i = 1; i <= count; i++)
                await bus.Publish(new LotSold(i, "b", i));

            await handled.WaitForCount(count);
        }
        finally
        {
            await bus.StopAsync();
        }

        var db = await redis.Database();
        var ids = (await db.StreamRangeAsync(redis.Key("events:LotSold"))).Select(x => (string)x.Id!).ToArray();
        return (redis, ids);
    }
}
