namespace AuctionWeb.Tests;

using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Threading.Tasks;
using MassTransit.RedisStreams.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Xunit;


/// <summary>
/// The app as it starts in production (environment <c>Production</c>: the web view read-only, no demo opener), on the tests'
/// Redis under a key prefix of its own, with the connection string where Aspire puts it (<c>ConnectionStrings:redis</c>).
/// One per test class: starting the bus takes a moment.
/// </summary>
public class AuctionWebFactory :
    WebApplicationFactory<Program>,
    IAsyncLifetime
{
    string _connection = "";

    public string KeyPrefix { get; } = TestRedis.NewKeyPrefix();

    public async Task InitializeAsync()
    {
        _connection = await TestRedis.GetConnectionStringAsync();
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    /// <summary>Settings over the ones above, for a test class's own factory.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> Settings => [];

    public HttpClient Client() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = _connection,
            ["RedisStreams:Configuration"] = "unused:1",
            ["RedisStreams:KeyPrefix"] = KeyPrefix,
            ["Demo:AutoOpen"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "",
        }).AddInMemoryCollection(Settings));
    }
}
