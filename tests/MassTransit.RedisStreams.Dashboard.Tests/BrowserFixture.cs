namespace MassTransit.RedisStreams.Tests.Dashboard;

using System;
using System.IO;
using System.Threading.Tasks;
using Microsoft.Playwright;
using Xunit;


/// <summary>
/// One headless chromium for every dashboard test: the system's own (<c>/usr/bin/chromium</c>, which test.sh installs), driven
/// by Playwright; Playwright's browser download is never used.
/// </summary>
public sealed class BrowserFixture :
    IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"The dashboard tests need chromium at {ChromiumPath}: run ./test.sh, or apt-get install -y chromium.");

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Args = ["--no-sandbox"],
            Headless = true
        });
    }

    /// <summary>A fresh page in a context of its own (cookies and all), sized for the screenshots.</summary>
    public async Task<IPage> NewPage()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        return page;
    }

    public async Task DisposeAsync()
    {
        if (Browser != null)
            await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}


[CollectionDefinition(Name)]
public sealed class BrowserCollection :
    ICollectionFixture<BrowserFixture>
{
    public const string Name = "Browser";
}
