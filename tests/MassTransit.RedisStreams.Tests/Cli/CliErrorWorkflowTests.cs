namespace MassTransit.RedisStreams.Tests.Cli;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Contract;
using History;
using Infrastructure;
using Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// The operator's error workflow with the tool, against a real Redis and real buses: read what failed (peek), send it back or
/// elsewhere (move, requeue), remove it (delete, purge), and clean up after retired endpoints (groups).
/// </summary>
public class CliErrorWorkflowTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Peek_shows_a_real_faults_headers_where_it_came_from_and_where_it_goes_back_in_every_spelling()
    {
        await using var ledger = await Ledger.Start();
        await ledger.Bus.Publish(new LotSold(1, "a", 1m));
        await ledger.Bus.Publish(new LotSold(2, "b", 2m));
        await ledger.WaitForErrors(2);
        var redis = ledger.Redis;

        foreach (var spelling in new[] { "queue:ledger_error", $"{redis.KeyPrefix}:queue:ledger_error", "error:ledger", "error:ledger_error" })
        {
            var result = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "peek", spelling, "--output", "json", "--body");
            Assert.True(result.ExitCode == 0, spelling + ": " + result);

            var document = JsonDocument.Parse(result.Output).RootElement;
            Assert.Equal("queue:ledger_error", document.GetProperty("stream").GetString());
            Assert.Equal("error", document.GetProperty("kind").GetString());
            var entries = document.GetProperty("entries").EnumerateArray().ToList();
            Assert.Equal(2, entries.Count);

            // The endpoint handles the two at once, so they may fail in either order.
            Assert.Equal([1, 2], entries.Select(x => x.GetProperty("body").GetProperty("lot").GetInt32()).Order());
            foreach (var entry in entries)
            {
                Assert.Equal("fault", entry.GetProperty("reason").GetString());
                Assert.Equal("System.InvalidOperationException", entry.GetProperty("exceptionType").GetString());
                Assert.Equal($"lot {entry.GetProperty("body").GetProperty("lot").GetInt32()} is broken", entry.GetProperty("faultMessage").GetString());
                Assert.Contains("at ", entry.GetProperty("stackTrace").GetString());
                Assert.Equal("events:LotSold", entry.GetProperty("sourceStream").GetString());
                Assert.False(string.IsNullOrEmpty(entry.GetProperty("sourceEntry").GetString()));
                Assert.Equal("queue:ledger", entry.GetProperty("destination").GetString());
                Assert.Contains("LotSold", entry.GetProperty("messageType").GetString());
                Assert.False(string.IsNullOrEmpty(entry.GetProperty("messageId").GetString()));
            }
        }

        var text = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "peek", "queue:ledger_error");
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("lot 2 is broken", text.Output);
        Assert.Contains("InvalidOperationException", text.Output);
        Assert.DoesNotContain("   at ", text.Output);
        Assert.Contains("2 entries of queue:ledger_error.", text.Output);

        var withStack = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "peek", "queue:ledger_error", "--stack", "--body", "-n", "1");
        Assert.Contains("   at ", withStack.Output);
        Assert.Contains("\"lot\": ", withStack.Output);
        Assert.Contains("1 entries of queue:ledger_error.", withStack.Output);
    }

    [Fact]
    public async Task Move_sends_failed_events_back_to_the_endpoints_queue_as_they_were_sent_and_they_are_consumed()
    {
        await using var ledger = await Ledger.Start();
        await ledger.Bus.Publish(new LotSold(1, "a", 1m));
        await ledger.Bus.Publish(new LotSold(2, "b", 2m));
        await ledger.WaitForErrors(2);
        var redis = ledger.Redis;
        var db = await redis.Database();
        ledger.Failing = false;

        var result = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "move", "error:ledger", "--yes");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Moved 2 messages from queue:ledger_error: 2 to queue:ledger.", result.Output);
        await ledger.Handled.WaitForCount(2).WaitAsync(Timeout);
        Assert.Equal([1, 2], ledger.Handled.Items.Order());
        Assert.Equal(0, await db.StreamLengthAsync(redis.Key("queue:ledger_error")));
        Assert.Equal(2, await db.StreamLengthAsync(redis.Key("events:LotSold")));

        foreach (var entry in await db.StreamRangeAsync(redis.Key("queue:ledger")))
        {
            Assert.True(entry["MT-Reason"].IsNull);
            Assert.True(entry["MT-Fault-Message"].IsNull);
            Assert.True(entry["MT-Redis-Source-Stream"].IsNull);
            Assert.False(entry["MessageId"].IsNull);
        }
    }

    [Fact]
    public async Task Move_to_another_queue_takes_only_the_selected_entries_and_that_endpoint_consumes_them()
    {
        await using var ledger = await Ledger.Start(withAudit: true);
        var send = await ledger.Bus.GetSendEndpoint(new Uri("queue:ledger"));
        for (var lot = 1; lot <= 3; lot++)
            await send.Send(new LotSold(lot, "a", lot));
        await ledger.WaitForErrors(3);
        var redis = ledger.Redis;
        var db = await redis.Database();
        var failed = await db.StreamRangeAsync(redis.Key("queue:ledger_error"));
        var ids = failed.Select(x => (string)x.Id!).ToArray();
        int Lot(int i) => JsonDocument.Parse((string)failed[i]["body"]!).RootElement.GetProperty("lot").GetInt32();

        var result = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "move", "queue:ledger_error", "--id", ids[0], "--id", ids[2],
            "--to", "audit", "--yes", "--output", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var moved = JsonDocument.Parse(result.Output).RootElement.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal([ids[0], ids[2]], moved.Select(x => x.GetProperty("id").GetString()));
        Assert.All(moved, x => Assert.Equal("queue:audit", x.GetProperty("target").GetString()));
        await ledger.Audited.WaitForCount(2).WaitAsync(Timeout);
        Assert.Equal(new[] { Lot(0), Lot(2) }.Order(), ledger.Audited.Items.Order());
        Assert.Empty(ledger.Handled.Items);
        Assert.Equal([ids[1]], (await db.StreamRangeAsync(redis.Key("queue:ledger_error"))).Select(x => (string)x.Id!));
    }

    [Fact]
    public async Task Every_kind_of_selection_takes_the_entries_it_names()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var ids = new[] { $"{now - 3 * 3600_000}-0", $"{now - 2 * 3600_000}-0", $"{now - 30 * 60_000}-0", $"{now - 60_000}-0" };
        var types = new[] { "TypeA", "TypeB", "TypeA", "TypeB" };
        var exceptions = new[] { "System.InvalidOperationException", "System.ArgumentException", "System.ArgumentException", "System.InvalidOperationException" };
        for (var i = 0; i < ids.Length; i++)
        {
            await db.StreamAddAsync(redis.Key("queue:ledger_error"), [new NameValueEntry("body", "{}"), new NameValueEntry("MT-MessageType", $"urn:message:Demo:{types[i]}"),
                new NameValueEntry("MT-Reason", "fault"), new NameValueEntry("MT-Fault-ExceptionType", exceptions[i])], ids[i]);
        }

        async Task<string[]> Peek(params string[] selection)
        {
            var result = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, ["peek", "queue:ledger_error", "-o", "json", ..selection]);
            Assert.True(result.ExitCode == 0, result.ToString());
            return JsonDocument.Parse(result.Output).RootElement.GetProperty("entries").EnumerateArray().Select(x => x.GetProperty("id").GetString()!).ToArray();
        }

        var earlier = DateTimeOffset.FromUnixTimeMilliseconds(now - 2 * 3600_000 - 1000).ToString("O");
        Assert.Equal([ids[0], ids[2]], await Peek("--id", ids[0], "--id", ids[2]));
        Assert.Equal([ids[1], ids[2]], await Peek("--from", ids[1], "--to", ids[2]));
        Assert.Equal([ids[1], ids[2], ids[3]], await Peek("--from", earlier));
        Assert.Equal([ids[2], ids[3]], await Peek("--since", "1h"));
        Assert.Equal([ids[0], ids[1]], await Peek("--until", "1h"));
        Assert.Equal([ids[1], ids[2]], await Peek("--since", "150m", "--until", "10m"));
        Assert.Equal([ids[0], ids[2]], await Peek("--message-type", "typea"));
        Assert.Equal([ids[1], ids[3]], await Peek("--message-type", "Demo:TypeB"));
        Assert.Equal([ids[1], ids[2]], await Peek("--exception-type", "ArgumentException"));
        Assert.Equal([ids[0], ids[3]], await Peek("--exception-type", "System.InvalidOperationException"));
        Assert.Equal([ids[0], ids[1]], await Peek("--limit", "2"));
        Assert.Equal([ids[2]], await Peek("--message-type", "TypeA", "--since", "1h"));

        var bad = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "peek", "queue:ledger_error", "--id", "yesterday");
        Assert.Equal(2, bad.ExitCode);
    }

    [Fact]
    public async Task Delete_removes_the_selected_entries_after_a_dry_run_and_a_refusal_changed_nothing()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
            ids.Add((await db.StreamAddAsync(redis.Key("queue:ledger_error"), [new NameValueEntry("body", "{}"), new NameValueEntry("MT-Reason", "fault")]))!);

        var dryRun = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "delete", "queue:ledger_error", "--id", ids[1], "--dry-run", "-o", "json");
        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        Assert.True(JsonDocument.Parse(dryRun.Output).RootElement.GetProperty("dryRun").GetBoolean());
        Assert.Equal(3, await db.StreamLengthAsync(redis.Key("queue:ledger_error")));

        var refused = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "delete", "queue:ledger_error", "--id", ids[1]);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("without --yes", refused.Error);
        Assert.Equal(3, await db.StreamLengthAsync(redis.Key("queue:ledger_error")));

        var deleted = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "delete", "queue:ledger_error", "--id", ids[1], "--yes");
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Contains("Deleted 1 entries from queue:ledger_error.", deleted.Output);
        Assert.Equal([ids[0], ids[2]], (await db.StreamRangeAsync(redis.Key("queue:ledger_error"))).Select(x => (string)x.Id!));
    }

    [Fact]
    public async Task Dry_runs_and_refusals_change_nothing_for_every_command_that_changes_data()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        await db.StreamCreateConsumerGroupAsync(redis.Key("queue:ledger"), "ledger", "0", true);
        await db.StreamAddAsync(redis.Key("queue:ledger_error"), [new NameValueEntry("body", "{}"), new NameValueEntry("MT-Reason", "fault")]);
        await db.StreamCreateConsumerGroupAsync(redis.Key("queue:ledger_error"), "retired", "0");

        foreach (var command in new[]
        {
            new[] { "move", "queue:ledger_error" }, ["requeue", "ledger"], ["delete", "queue:ledger_error"], ["purge", "queue:ledger_error"],
            ["groups", "delete", "queue:ledger_error", "retired"]
        })
        {
            var dryRun = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, [..command, "--dry-run"]);
            Assert.True(dryRun.ExitCode == 0, string.Join(" ", command) + ": " + dryRun);
            Assert.Contains("nothing changed", dryRun.Output);

            var refused = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, command);
            Assert.True(refused.ExitCode == 2, string.Join(" ", command) + ": " + refused);
            Assert.StartsWith("redis-streams: refusing to change data without --yes", refused.Error);

            Assert.Equal(1, await db.StreamLengthAsync(redis.Key("queue:ledger_error")));
            Assert.Equal(0, await db.StreamLengthAsync(redis.Key("queue:ledger")));
            Assert.Single(await db.StreamGroupInfoAsync(redis.Key("queue:ledger_error")));
        }
    }

    [Fact]
    public async Task Purge_empties_a_stream_keeps_its_groups_and_warns_about_pending_entries()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var queue = redis.Key("queue:ledger");
        await db.StreamCreateConsumerGroupAsync(queue, "ledger", "0", true);
        for (var i = 0; i < 3; i++)
            await db.StreamAddAsync(queue, "body", "{}");
        await db.StreamReadGroupAsync(queue, "ledger", "worker", ">", 1);

        var dryRun = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "purge", "ledger", "--dry-run", "-o", "json");
        var plan = JsonDocument.Parse(dryRun.Output).RootElement;
        Assert.Equal(3, plan.GetProperty("length").GetInt64());
        Assert.Equal("ledger", plan.GetProperty("groupsWithPending")[0].GetProperty("group").GetString());
        Assert.Equal(3, await db.StreamLengthAsync(queue));

        var result = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "purge", "queue:ledger", "--yes");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Warning: group ledger has 1 entries delivered", result.Output);
        Assert.Contains("Removed 3 entries from queue:ledger", result.Output);
        Assert.Equal(0, await db.StreamLengthAsync(queue));
        Assert.Equal("ledger", Assert.Single(await db.StreamGroupInfoAsync(queue)).Name);
    }

    [Fact]
    public async Task Groups_lists_a_streams_groups_and_deletes_a_retired_endpoints_group_and_registration()
    {
        var (redis, _) = await CliTests.Publish(2);
        var db = await redis.Database();
        var stream = redis.Key("events:LotSold");
        await db.StreamCreateConsumerGroupAsync(stream, "retired", "0");
        await db.HashSetAsync(redis.Beside("events:LotSold", "subscribers"), "retired", "0");

        var list = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "groups", "list", "events:LotSold", "-o", "json");
        Assert.True(list.ExitCode == 0, list.ToString());
        var groups = JsonDocument.Parse(list.Output).RootElement.GetProperty("groups").EnumerateArray().ToList();
        Assert.Equal(["ledger", "retired"], groups.Select(x => x.GetProperty("name").GetString()).Order());
        Assert.Equal(2, groups.Single(x => x.GetProperty("name").GetString() == "retired").GetProperty("lag").GetInt64());

        var text = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "groups", "list", "LotSold");
        Assert.Contains("retired", text.Output);
        Assert.Contains("2 groups on events:LotSold.", text.Output);

        var deleted = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "groups", "delete", "events:LotSold", "retired", "--yes");
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Equal("ledger", Assert.Single(await db.StreamGroupInfoAsync(stream)).Name);
        Assert.False(await db.HashExistsAsync(redis.Beside("events:LotSold", "subscribers"), "retired"));
        Assert.True(await db.HashExistsAsync(redis.Beside("events:LotSold", "subscribers"), "ledger"));

        var missing = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "groups", "delete", "events:LotSold", "retired", "--yes");
        Assert.Equal(4, missing.ExitCode);
    }

    [Fact]
    public async Task Info_takes_the_stream_as_redis_cli_and_the_streams_table_name_it()
    {
        var (redis, _) = await CliTests.Publish(1);

        foreach (var spelling in new[] { new[] { "LotSold" }, ["events:LotSold"], [$"{redis.KeyPrefix}:events:LotSold"], ["queue:ledger"], ["ledger", "--queue"] })
        {
            var result = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, ["info", ..spelling]);
            Assert.True(result.ExitCode == 0, string.Join(" ", spelling) + ": " + result);
            Assert.Contains(spelling[0].Contains("queue", StringComparison.Ordinal) || spelling.Length > 1 ? $"{redis.KeyPrefix}:queue:ledger" : $"{redis.KeyPrefix}:events:LotSold",
                result.Output);
        }

        var missing = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "info", "events:Nothing");
        Assert.Equal(4, missing.ExitCode);
        Assert.Equal($"redis-streams: there is no stream {redis.KeyPrefix}:events:Nothing.", missing.Error.Trim());
    }

    [Fact]
    public async Task Every_command_prints_one_JSON_document_and_nothing_else_with_output_json()
    {
        var (redis, ids) = await CliTests.Publish(2);
        var db = await redis.Database();
        await db.StreamAddAsync(redis.Key("queue:ledger_error"), [new NameValueEntry("body", "{}"), new NameValueEntry("MT-Reason", "fault")]);
        await db.StreamAddAsync(redis.Key("queue:ledger_error"), [new NameValueEntry("body", "{}"), new NameValueEntry("MT-Reason", "fault")]);
        await db.StreamAddAsync(redis.Key("queue:ledger_error"), [new NameValueEntry("body", "{}"), new NameValueEntry("MT-Reason", "fault")]);
        await db.StreamCreateConsumerGroupAsync(redis.Key("events:LotSold"), "retired", "0");

        foreach (var command in new[]
        {
            new[] { "streams" }, ["info", "LotSold"], ["history", "LotSold"], ["peek", "events:LotSold"], ["peek", "queue:ledger_error", "--body"],
            ["groups", "list", "events:LotSold"], ["move", "queue:ledger_error", "--limit", "1", "--dry-run"], ["move", "queue:ledger_error", "--limit", "1", "--yes"],
            ["requeue", "ledger", "--limit", "1", "--yes"], ["delete", "queue:ledger_error", "--yes"], ["purge", "queue:ledger_error", "--yes"],
            ["groups", "delete", "events:LotSold", "retired", "--yes"], ["replay", "LotSold", "--endpoint", "ledger", "--yes"], ["rewind", "ledger", "--to", ids[0], "--yes"],
            ["trim", "--dry-run"], ["trim", "--yes"], ["scheduled", "list"], ["migrate-keys", "--dry-run"], ["migrate-keys", "--yes"]
        })
        {
            var result = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, [..command, "--output", "json"]);
            Assert.True(result.ExitCode == 0, string.Join(" ", command) + ": " + result);
            Assert.True(result.Error.Length == 0, string.Join(" ", command) + ": " + result);
            using var document = JsonDocument.Parse(result.Output);
            Assert.True(document.RootElement.ValueKind is JsonValueKind.Object or JsonValueKind.Array, string.Join(" ", command));
        }
    }

    [Fact]
    public async Task Watch_redraws_until_stopped_one_JSON_document_a_line_in_json()
    {
        var (redis, _) = await CliTests.Publish(1);

        var json = await Watch(redis, ["streams", "--watch", "0.2", "--output", "json"], line => line.StartsWith('['));
        Assert.All(json, line => Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(line).RootElement.ValueKind));

        await Watch(redis, ["info", "events:LotSold", "--watch", "0.2"], line => line.StartsWith("Stream", StringComparison.Ordinal));
    }

    /// <summary>Runs a --watch command until two refreshes are printed (lines <paramref name="refresh" /> picks), then kills it.</summary>
    static async Task<List<string>> Watch(RedisTestContext redis, string[] arguments, Func<string, bool> refresh)
    {
        using var process = CliProcess.Start(null, [..arguments, "--connection", redis.ConnectionString, "--prefix", redis.KeyPrefix]);
        var seen = new List<string>();
        try
        {
            while (seen.Count < 2)
            {
                var line = await process.StandardOutput.ReadLineAsync().WaitAsync(Timeout)
                    ?? throw new InvalidOperationException("The tool ended: " + await process.StandardError.ReadToEndAsync());
                if (refresh(line))
                    seen.Add(line);
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        return seen;
    }


    /// <summary>A bus with a "ledger" endpoint whose LotSold handler fails while <see cref="Failing" />, and maybe an "audit" one.</summary>
    sealed class Ledger :
        IAsyncDisposable
    {
        Ledger(RedisTestContext redis, IBusControl bus)
        {
            Redis = redis;
            Bus = bus;
        }

        public RedisTestContext Redis { get; }
        public IBusControl Bus { get; }
        public volatile bool Failing = true;
        public Recorder<int> Handled { get; } = new();
        public Recorder<int> Audited { get; } = new();

        public static async Task<Ledger> Start(bool withAudit = false)
        {
            var redis = await RedisTestContext.Create();
            Ledger? ledger = null;
            var bus = MassTransit.Bus.Factory.CreateUsingRedisStreams(cfg =>
            {
                cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
                cfg.ReceiveEndpoint("ledger", e => e.Handler<LotSold>(ctx =>
                {
                    if (ledger!.Failing)
                        throw new InvalidOperationException($"lot {ctx.Message.Lot} is broken");

                    ledger.Handled.Add(ctx.Message.Lot);
                    return Task.CompletedTask;
                }));
                if (withAudit)
                {
                    cfg.ReceiveEndpoint("audit", e => e.Handler<LotSold>(ctx =>
                    {
                        ledger!.Audited.Add(ctx.Message.Lot);
                        return Task.CompletedTask;
                    }));
                }
            });

            ledger = new Ledger(redis, bus);
            await bus.StartAsync();
            return ledger;
        }

        public async Task WaitForErrors(int count)
        {
            var db = await Redis.Database();
            Assert.True(await Eventually.True(async () => await db.StreamLengthAsync(Redis.Key("queue:ledger_error")) == count, Timeout),
                $"{count} entries in queue:ledger_error");
        }

        public async ValueTask DisposeAsync() => await Bus.StopAsync();
    }
}
