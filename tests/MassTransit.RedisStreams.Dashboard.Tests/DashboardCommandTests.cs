namespace MassTransit.RedisStreams.Tests.Dashboard;

using System;
using System.Net.Http;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Infrastructure;
using Microsoft.Playwright;
using Redis;
using StackExchange.Redis;
using Xunit;
using static Microsoft.Playwright.Assertions;


/// <summary><c>redis-streams dashboard</c> as an operator runs it: a process of its own that serves the overview.</summary>
[Collection(BrowserCollection.Name)]
public class DashboardCommandTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    readonly BrowserFixture _browser;

    public DashboardCommandTests(BrowserFixture browser)
    {
        _browser = browser;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_command_serves_the_overview_of_its_prefix_read_only_unless_changes_are_allowed(bool allowChanges)
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        await db.StreamAddAsync(redis.Key("queue:orders"), "body", "{}");
        await db.StreamAddAsync(redis.Key("queue:orders_error"), [new NameValueEntry("body", "{}"), new NameValueEntry("MT-Reason", "fault")]);

        string[] arguments = ["dashboard", "--urls", "http://127.0.0.1:0", "--connection", redis.ConnectionString, "--prefix", redis.KeyPrefix];
        using var process = CliProcess.Start(null, allowChanges ? [..arguments, "--allow-changes"] : arguments);
        try
        {
            // The tool prints where it listens once Kestrel has started; port 0 made it pick a free one.
            string? url = null;
            var read = Task.Run(async () =>
            {
                while (await process.StandardOutput.ReadLineAsync() is { } line)
                {
                    var match = Regex.Match(line, @"at (http://127\.0\.0\.1:\d+)/");
                    if (match.Success)
                        return url = match.Groups[1].Value;
                }

                return null;
            });
            var started = await read.WaitAsync(Timeout);
            Assert.True(started != null, "the tool said where it listens; stderr: " + await ReadError(process));

            using var http = new HttpClient();
            var html = await http.GetStringAsync(url + "/");
            Assert.Contains("queue:orders_error", html);

            var page = await _browser.NewPage();
            await page.GotoAsync(url + "/");
            await Expect(page.Locator("tr[data-stream='queue:orders_error']")).ToHaveClassAsync(new Regex("failed"));
            await Expect(page.Locator("header .prefix")).ToHaveTextAsync("key prefix " + redis.KeyPrefix);
            await Expect(page.Locator("header .mode")).ToHaveTextAsync(allowChanges ? "changes allowed" : "read-only");

            await page.GotoAsync(url + "/stream?name=error:orders");
            await Expect(page.Locator("#move")).ToHaveCountAsync(allowChanges ? 1 : 0);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(Timeout);
        }
    }

    static async Task<string> ReadError(System.Diagnostics.Process process)
    {
        if (!process.HasExited)
            return "(still running)";

        return await process.StandardError.ReadToEndAsync();
    }
}
