namespace MassTransit.RedisStreams.Tests.Dashboard;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Microsoft.Playwright;
using StackExchange.Redis;
using Xunit;
using static Microsoft.Playwright.Assertions;


/// <summary>
/// The dashboard in a real browser, against a real bus on the test Redis: every page, moving failed messages back and
/// deleting them, replay and rewind, and read-only mode.
/// </summary>
[Collection(BrowserCollection.Name)]
public class DashboardTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    readonly BrowserFixture _browser;

    public DashboardTests(BrowserFixture browser)
    {
        _browser = browser;
    }

    [Fact]
    public async Task Overview_lists_every_stream_highlights_failures_and_refreshes_itself()
    {
        await using var host = await DashboardHost.Start();
        await host.Publish(1, 2);
        await host.WaitForErrors(2);
        var page = await _browser.NewPage();

        await page.GotoAsync(host.Url);

        await Expect(page).ToHaveTitleAsync("Streams · Auction house");
        var rows = page.Locator("#streams tbody tr");
        foreach (var stream in new[] { "events:LotSold", "queue:ledger", "queue:audit", "queue:ledger_error" })
            await Expect(page.Locator($"tr[data-stream='{stream}']")).ToHaveCountAsync(1);

        var failed = page.Locator("tr[data-stream='queue:ledger_error']");
        await Expect(failed).ToHaveClassAsync(new Regex("failed"));
        await Expect(failed.Locator("td").First).ToHaveTextAsync("error");
        await Expect(failed.Locator("td.length")).ToHaveTextAsync("2");
        await Expect(page.Locator("tr[data-stream='events:LotSold'] td").Nth(3)).ToHaveTextAsync("2");
        await Expect(page.Locator("tr[data-stream='queue:ledger']")).Not.ToHaveClassAsync(new Regex("failed"));
        await Expect(page.Locator("header .mode")).ToHaveTextAsync("changes allowed");
        await DashboardHost.Screenshot(page, "overview");

        // A third fault shows without a reload, at the next refresh.
        await host.Publish(3);
        await host.WaitForErrors(3);
        await Expect(failed.Locator("td.length")).ToHaveTextAsync("3", new() { Timeout = 10_000 });
        await Expect(page.Locator("#refreshed")).ToContainTextAsync("Last refreshed");
    }

    [Fact]
    public async Task Stream_page_shows_the_groups_and_the_entries_newest_first_a_page_at_a_time()
    {
        await using var host = await DashboardHost.Start();
        host.Failing = false;
        await host.Publish(Enumerable.Range(1, 25).ToArray());
        await host.Handled.WaitForCount(25).WaitAsync(Timeout);
        var page = await _browser.NewPage();
        await page.GotoAsync(host.Url);

        await page.ClickAsync("tr[data-stream='events:LotSold'] td a >> text=LotSold");

        await Expect(page.Locator("h1")).ToHaveTextAsync("events:LotSold");
        await Expect(page.Locator("#length")).ToHaveTextAsync("25");
        await Expect(page.Locator("#groups tr[data-group='ledger']")).ToHaveCountAsync(1);
        await Expect(page.Locator("#groups tr[data-group='audit']")).ToHaveCountAsync(1);
        await Expect(page.Locator("#groups tr[data-group='ledger'] td").Nth(1)).ToHaveTextAsync("0");

        var db = await host.Redis.Database();
        var all = (await db.StreamRangeAsync(host.Redis.Key("events:LotSold"), messageOrder: Order.Descending)).Select(x => (string)x.Id!).ToList();
        var shown = await page.Locator("#entries tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.id)");
        Assert.Equal(all.Take(20), shown);
        await Expect(page.Locator("#entries tbody tr").First).ToContainTextAsync("LotSold");
        await DashboardHost.Screenshot(page, "stream");

        await page.ClickAsync("#older");
        shown = await page.Locator("#entries tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.id)");
        Assert.Equal(all.Skip(20), shown);
        await Expect(page.Locator("#older")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Failed_messages_show_why_and_once_moved_back_after_confirming_are_consumed()
    {
        await using var host = await DashboardHost.Start();
        await host.Publish(1, 2, 3);
        await host.WaitForErrors(3);
        var db = await host.Redis.Database();
        var failed = await db.StreamRangeAsync(host.Redis.Key("queue:ledger_error"));
        var page = await _browser.NewPage();
        await page.GotoAsync(host.Url);

        await page.ClickAsync("tr[data-stream='queue:ledger_error'] td a");

        await Expect(page.Locator("h1")).ToHaveTextAsync("queue:ledger_error");
        var rows = page.Locator("#entries tbody tr");
        await Expect(rows).ToHaveCountAsync(3);
        var first = rows.First;
        await Expect(first.Locator(".reason")).ToHaveTextAsync("fault");
        await Expect(first.Locator(".exception-type")).ToHaveTextAsync("System.InvalidOperationException");
        await Expect(first.Locator(".fault-message")).ToHaveTextAsync(new Regex(@"^lot \d is broken$"));
        await Expect(first.Locator(".source")).ToHaveTextAsync("events:LotSold");
        await Expect(first.Locator(".destination")).ToHaveTextAsync("queue:ledger");
        await Expect(first.Locator(".type")).ToContainTextAsync("LotSold");
        var stack = first.Locator("details.stack");
        await Expect(stack.Locator("pre")).Not.ToBeVisibleAsync();
        await stack.Locator("summary").ClickAsync();
        await Expect(stack.Locator("pre")).ToContainTextAsync("at ");
        await DashboardHost.Screenshot(page, "errors");

        // Two of three go back; nothing changes before the confirmation.
        var chosen = new[] { (string)failed[0].Id!, (string)failed[2].Id! };
        foreach (var id in chosen)
            await page.CheckAsync($"input[name=id][value='{id}']");
        await page.ClickAsync("#move");

        await Expect(page.Locator("h1")).ToHaveTextAsync("Move entries?");
        await Expect(page.Locator("#plan tbody tr")).ToHaveCountAsync(2);
        await Expect(page.Locator("#plan")).ToContainTextAsync("queue:ledger");
        Assert.Equal(3, await db.StreamLengthAsync(host.Redis.Key("queue:ledger_error")));
        await DashboardHost.Screenshot(page, "confirm-move");

        host.Failing = false;
        await page.ClickAsync("#confirm button[type=submit]");

        await Expect(page.Locator("#result")).ToHaveTextAsync("Moved 2 entries from queue:ledger_error: 2 to queue:ledger.");
        var lots = await host.Handled.WaitForCount(2).WaitAsync(Timeout);
        Assert.Equal(new[] { Lot(failed[0]), Lot(failed[2]) }.Order(), lots.Order());
        Assert.Equal([(string)failed[1].Id!], (await db.StreamRangeAsync(host.Redis.Key("queue:ledger_error"))).Select(x => (string)x.Id!));
    }

    [Fact]
    public async Task Deleted_entries_are_gone_from_redis_after_the_confirmation_and_the_others_stay()
    {
        await using var host = await DashboardHost.Start();
        await host.Publish(1, 2);
        await host.WaitForErrors(2);
        var db = await host.Redis.Database();
        var failed = await db.StreamRangeAsync(host.Redis.Key("queue:ledger_error"));
        var page = await _browser.NewPage();
        await page.GotoAsync(host.Url + "/stream?name=error:ledger");

        await page.CheckAsync($"input[name=id][value='{failed[1].Id}']");
        await page.ClickAsync("#delete");

        await Expect(page.Locator("h1")).ToHaveTextAsync("Delete entries?");
        await Expect(page.Locator("#plan li")).ToHaveTextAsync((string)failed[1].Id!);
        Assert.Equal(2, await db.StreamLengthAsync(host.Redis.Key("queue:ledger_error")));
        await DashboardHost.Screenshot(page, "confirm-delete");
        await page.ClickAsync("#confirm button[type=submit]");

        await Expect(page.Locator("#result")).ToHaveTextAsync("Deleted 1 entries from queue:ledger_error.");
        var left = await db.StreamRangeAsync(host.Redis.Key("queue:ledger_error"));
        Assert.Equal([(string)failed[0].Id!], left.Select(x => (string)x.Id!));
        Assert.Empty(await db.StreamRangeAsync(host.Redis.Key("queue:ledger_error"), failed[1].Id, failed[1].Id));

        // Select all, then delete the rest.
        await page.GotoAsync(host.Url + "/stream?name=queue:ledger_error");
        await page.CheckAsync("#select-all");
        await page.ClickAsync("#delete");
        await page.ClickAsync("#confirm button[type=submit]");
        await Expect(page.Locator("#result")).ToHaveTextAsync("Deleted 1 entries from queue:ledger_error.");
        Assert.Equal(0, await db.StreamLengthAsync(host.Redis.Key("queue:ledger_error")));
    }

    [Fact]
    public async Task History_shows_a_types_events_between_two_positions_with_their_bodies_as_json()
    {
        await using var host = await DashboardHost.Start();
        host.Failing = false;
        await host.Publish(1, 2, 3);
        var db = await host.Redis.Database();
        var ids = (await db.StreamRangeAsync(host.Redis.Key("events:LotSold"))).Select(x => (string)x.Id!).ToList();
        var page = await _browser.NewPage();
        await page.GotoAsync(host.Url);

        await page.ClickAsync("tr[data-stream='events:LotSold'] >> text=history");

        await Expect(page.Locator("h1")).ToHaveTextAsync("History of LotSold");
        await Expect(page.Locator("#events > li")).ToHaveCountAsync(3);
        var newest = page.Locator("#events > li").First;
        await Expect(newest).ToHaveAttributeAsync("data-id", ids[2]);
        await Expect(newest.Locator("pre.json")).ToContainTextAsync("\"lot\": 3");
        await Expect(newest.Locator("pre.json")).ToContainTextAsync("\"buyer\": \"buyer 3\"");
        await DashboardHost.Screenshot(page, "history");

        await page.FillAsync("input[name=from]", ids[1]);
        await page.FillAsync("input[name=to]", ids[1]);
        await page.ClickAsync("#filter button");
        await Expect(page.Locator("#events > li")).ToHaveCountAsync(1);
        await Expect(page.Locator("#events > li pre.json")).ToContainTextAsync("\"lot\": 2");

        var before = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(ids[0].Split('-')[0]) - 60_000).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss") + "Z";
        await page.FillAsync("input[name=from]", "");
        await page.FillAsync("input[name=to]", before);
        await page.ClickAsync("#filter button");
        await Expect(page.Locator("#events > li")).ToHaveCountAsync(0);
        await Expect(page.Locator("main")).ToContainTextAsync("No events of LotSold in this window.");

        await page.FillAsync("input[name=to]", "");
        await page.FillAsync("input[name=from]", "1h");
        await page.ClickAsync("#filter button");
        await Expect(page.Locator("#events > li")).ToHaveCountAsync(3);
    }

    [Fact]
    public async Task Replay_after_confirming_delivers_the_events_to_the_endpoint_and_rewind_moves_its_group()
    {
        await using var host = await DashboardHost.Start();
        host.Failing = false;
        await host.Publish(1, 2, 3);
        await host.Handled.WaitForCount(3).WaitAsync(Timeout);
        var db = await host.Redis.Database();
        var ids = (await db.StreamRangeAsync(host.Redis.Key("events:LotSold"))).Select(x => (string)x.Id!).ToList();
        var page = await _browser.NewPage();
        await page.GotoAsync(host.Url + "/replay");

        await page.FillAsync("input[name=type]", "LotSold");
        await page.FillAsync("input[name=endpoint]", "audit");
        await page.FillAsync("input[name=from]", ids[1]);
        await DashboardHost.Screenshot(page, "replay");
        await page.ClickAsync("#replay button");

        await Expect(page.Locator("h1")).ToHaveTextAsync("Replay events?");
        await Expect(page.Locator("#count")).ToHaveTextAsync("2");
        Assert.Equal(3, host.Audited.Items.Count);
        await page.ClickAsync("#confirm button[type=submit]");

        await Expect(page.Locator("#result")).ToHaveTextAsync("Replayed 2 LotSold events to audit.");
        var audited = await host.Audited.WaitForCount(5).WaitAsync(Timeout);
        Assert.Equal([2, 3], audited.Skip(3).Order());
        Assert.Equal(3, host.Handled.Items.Count);
        Assert.Equal(3, await db.StreamLengthAsync(host.Redis.Key("events:LotSold")));

        // Rewind the ledger to the first event: it handles all three again.
        await page.GotoAsync(host.Url + "/rewind");
        await page.FillAsync("input[name=endpoint]", "ledger");
        await page.FillAsync("input[name=to]", ids[0]);
        await page.ClickAsync("#rewind button");
        await Expect(page.Locator("#plan")).ToContainTextAsync("events:LotSold");
        await DashboardHost.Screenshot(page, "rewind");
        await page.ClickAsync("#confirm button[type=submit]");

        await Expect(page.Locator("#result")).ToHaveTextAsync("Moved ledger in 1 streams.");
        var handled = await host.Handled.WaitForCount(6).WaitAsync(Timeout);
        Assert.Equal([1, 2, 3], handled.Skip(3).Order());
    }

    [Fact]
    public async Task Without_a_policy_that_allows_changes_it_is_read_only_no_forms_and_posts_refused()
    {
        await using var host = await DashboardHost.Start(allowChanges: false);
        await host.Publish(1);
        await host.WaitForErrors(1);
        var db = await host.Redis.Database();
        var failed = await db.StreamRangeAsync(host.Redis.Key("queue:ledger_error"));
        var page = await _browser.NewPage();

        await page.GotoAsync(host.Url + "/stream?name=queue:ledger_error");
        await Expect(page.Locator("header .mode")).ToHaveTextAsync("read-only");
        await Expect(page.Locator("#entries tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator(".fault-message")).ToHaveTextAsync("lot 1 is broken");
        await Expect(page.Locator("form[method=post]")).ToHaveCountAsync(0);
        await Expect(page.Locator("input[type=checkbox]")).ToHaveCountAsync(0);
        await Expect(page.Locator("#move, #delete")).ToHaveCountAsync(0);

        foreach (var path in new[] { "/replay", "/rewind" })
        {
            await page.GotoAsync(host.Url + path);
            await Expect(page.Locator("form[method=post]")).ToHaveCountAsync(0);
            await Expect(page.Locator("main p.read-only")).ToHaveCountAsync(1);
        }

        foreach (var (path, form) in new (string, Dictionary<string, string>)[]
                 {
                     ("/move", new() { ["stream"] = "queue:ledger_error", ["id"] = (string)failed[0].Id!, ["confirmed"] = "yes" }),
                     ("/delete", new() { ["stream"] = "queue:ledger_error", ["id"] = (string)failed[0].Id!, ["confirmed"] = "yes" }),
                     ("/replay", new() { ["type"] = "LotSold", ["endpoint"] = "audit", ["confirmed"] = "yes" }),
                     ("/rewind", new() { ["endpoint"] = "ledger", ["to"] = "0", ["confirmed"] = "yes" })
                 })
        {
            var data = page.APIRequest.CreateFormData();
            foreach (var (name, value) in form)
                data.Set(name, value);

            var response = await page.APIRequest.PostAsync(host.Url + path, new APIRequestContextOptions { Form = data });
            Assert.Equal(403, response.Status);
        }

        Assert.Equal(1, await db.StreamLengthAsync(host.Redis.Key("queue:ledger_error")));
        Assert.Single(host.Audited.Items);
    }

    [Fact]
    public async Task A_post_without_the_forms_antiforgery_token_is_refused_even_when_changes_are_allowed()
    {
        await using var host = await DashboardHost.Start();
        await host.Publish(1);
        await host.WaitForErrors(1);
        var db = await host.Redis.Database();
        var failed = await db.StreamRangeAsync(host.Redis.Key("queue:ledger_error"));
        var page = await _browser.NewPage();

        var data = page.APIRequest.CreateFormData();
        data.Set("stream", "queue:ledger_error");
        data.Set("id", (string)failed[0].Id!);
        data.Set("confirmed", "yes");
        var response = await page.APIRequest.PostAsync(host.Url + "/delete", new APIRequestContextOptions { Form = data });

        Assert.Equal(400, response.Status);
        Assert.Equal(1, await db.StreamLengthAsync(host.Redis.Key("queue:ledger_error")));
    }

    [Fact]
    public async Task Text_from_redis_is_encoded_never_markup()
    {
        await using var host = await DashboardHost.Start();
        var db = await host.Redis.Database();
        await db.StreamAddAsync(host.Redis.Key("queue:ledger_error"), [
            new NameValueEntry("MT-Reason", "fault"),
            new NameValueEntry("MT-Fault-Message", "<script>window.injected = 1</script><b id=\"bold\">x</b>"),
            new NameValueEntry("body", "{\"html\":\"<img src=x onerror=alert(1)>\"}")
        ]);
        var page = await _browser.NewPage();

        await page.GotoAsync(host.Url + "/stream?name=queue:ledger_error");

        await Expect(page.Locator(".fault-message")).ToHaveTextAsync("<script>window.injected = 1</script><b id=\"bold\">x</b>");
        await Expect(page.Locator("#bold")).ToHaveCountAsync(0);
        Assert.Null(await page.EvaluateAsync<int?>("() => window.injected"));
    }

    static int Lot(StreamEntry entry) => System.Text.Json.JsonDocument.Parse((string)entry["body"]!).RootElement.GetProperty("lot").GetInt32();
}
