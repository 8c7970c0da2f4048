namespace MassTransit.RedisStreams.Tests.Dashboard;

using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Contract;
using Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Redis;
using Xunit;


/// <summary>
/// An ASP.NET Core application on a free port that runs a real Redis Streams bus — <c>ledger</c>, whose consumer of LotSold
/// fails while <see cref="Failing" /> is set, and <c>audit</c>, which records every LotSold — and maps the dashboard at /streams.
/// </summary>
public sealed class DashboardHost :
    IAsyncDisposable
{
    public const string ChangesPolicy = "operators";
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    WebApplication _app = null!;

    DashboardHost(RedisTestContext redis)
    {
        Redis = redis;
    }

    public RedisTestContext Redis { get; }
    volatile bool _failing = true;

    /// <summary>While set, the ledger's consumer throws, so its messages go to queue:ledger_error.</summary>
    public bool Failing
    {
        get => _failing;
        set => _failing = value;
    }

    public Recorder<int> Handled { get; } = new();
    public Recorder<int> Audited { get; } = new();
    public IBus Bus => _app.Services.GetRequiredService<IBus>();

    /// <summary>The dashboard's URL, e.g. <c>http://127.0.0.1:41234/streams</c>, without a trailing slash.</summary>
    public string Url { get; private set; } = "";

    /// <param name="allowChanges">Configures a policy every user meets as the policy that allows changes; without it, no policy.</param>
    /// <param name="partitions">Spreads LotSold over this many partition streams, by lot.</param>
    public static async Task<DashboardHost> Start(bool allowChanges = true, int partitions = 1)
    {
        var host = new DashboardHost(await RedisTestContext.Create());
        var redis = host.Redis;

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddRedisStreamsDashboard();
        builder.Services.AddAuthorizationBuilder().AddPolicy(ChangesPolicy, policy => policy.RequireAssertion(_ => true));
        builder.Services.AddMassTransit(x => x.UsingRedisStreams((_, cfg) =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            if (partitions > 1)
                cfg.Partition<LotSold>(partitions, x => x.Message.Lot.ToString(System.Globalization.CultureInfo.InvariantCulture));
            cfg.ReceiveEndpoint("ledger", e => e.Handler<LotSold>(context =>
            {
                if (host.Failing)
                    throw new InvalidOperationException($"lot {context.Message.Lot} is broken");

                host.Handled.Add(context.Message.Lot);
                return Task.CompletedTask;
            }));
            cfg.ReceiveEndpoint("audit", e => e.Handler<LotSold>(context =>
            {
                host.Audited.Add(context.Message.Lot);
                return Task.CompletedTask;
            }));
        }));

        host._app = builder.Build();
        host._app.MapRedisStreamsDashboard("/streams", options =>
        {
            options.Title = "Auction house";
            options.RefreshInterval = TimeSpan.FromSeconds(1);
            options.ChangesPolicy = allowChanges ? ChangesPolicy : null;
        });

        await host._app.StartAsync();
        var address = host._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        host.Url = address.TrimEnd('/') + "/streams";

        // The bus has started when its endpoints' queues exist; publishing earlier would find no subscriber group yet.
        var db = await redis.Database();
        Assert.True(await Eventually.True(async () => await db.KeyExistsAsync(redis.Key("queue:ledger")) && await db.KeyExistsAsync(redis.Key("queue:audit")),
            Timeout), "the bus's queues exist");
        await host.Bus.GetSendEndpoint(new Uri("queue:ledger"));

        return host;
    }

    /// <summary>Publishes LotSold for each lot and waits until the audit endpoint has them (and so the ledger had its turn).</summary>
    public async Task Publish(params int[] lots)
    {
        var before = Audited.Items.Count;
        foreach (var lot in lots)
            await Bus.Publish(new LotSold(lot, "buyer " + lot, lot * 10m));

        await Audited.WaitForCount(before + lots.Length).WaitAsync(Timeout);
    }

    public async Task WaitForErrors(long count)
    {
        var db = await Redis.Database();
        Assert.True(await Eventually.True(async () => await db.StreamLengthAsync(Redis.Key("queue:ledger_error")) == count, Timeout),
            $"{count} entries in queue:ledger_error");
    }

    /// <summary>
    /// Saves the page as <c>docs/images/dashboard-{name}.png</c> when UPDATE_DASHBOARD_SCREENSHOTS=1, else under TestResults, so an
    /// ordinary run leaves the repository as it was.
    /// </summary>
    public static async Task Screenshot(IPage page, string name)
    {
        var root = RepositoryRoot();
        var folder = Environment.GetEnvironmentVariable("UPDATE_DASHBOARD_SCREENSHOTS") == "1"
            ? Path.Combine(root, "docs", "images")
            : Path.Combine(root, "TestResults", "dashboard");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, $"dashboard-{name}.png"), FullPage = true });
    }

    static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory != null && !File.Exists(Path.Combine(directory.FullName, "MassTransit.RedisStreams.sln")))
            directory = directory.Parent;

        return directory?.FullName ?? Path.GetTempPath();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
