// The auction house as an ASP.NET Core app on MassTransit and Redis Streams: an HTTP API whose bids are requests to an
// auction saga, auctions that close themselves with a message scheduled in Redis, a consumer of the closed auctions, a
// background worker that opens auctions for the demo, health endpoints, OpenTelemetry, and the web view of the streams
// at /streams. See this example's README.md.

using System;
using AuctionWeb;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

var builder = WebApplication.CreateBuilder(args);

// The transport's settings from the RedisStreams section; the connection from ConnectionStrings:redis, as Aspire (and
// docker-compose.yml, through ConnectionStrings__redis) provides it, which takes precedence over RedisStreams:Configuration.
builder.Services.AddOptions<RedisStreamsTransportOptions>()
    .BindConfiguration("RedisStreams")
    .Configure<IConfiguration>((options, configuration) =>
    {
        if (configuration.GetConnectionString("redis") is { Length: > 0 } connectionString)
            options.Configuration = connectionString;
    });

builder.Services.AddOptions<DemoOptions>().BindConfiguration("Demo");
builder.Services.AddSingleton<SalesLog>();
builder.Services.AddHostedService<AuctionOpener>();

builder.Services.AddMassTransit(x =>
{
    // Endpoints (and consumer groups) "auction-state" and "auction-closed".
    x.SetKebabCaseEndpointNameFormatter();

    // The transport's scheduler: the saga's CloseAuction waits in Redis until it is due, and Unschedule removes it.
    x.AddRedisStreamsMessageScheduler();

    // In-memory saga repository: enough for one process and a demo; its auctions are gone when the process stops.
    // With several instances, use a shared repository (MassTransit's Redis, EF Core or MongoDB saga repositories).
    x.AddSagaStateMachine<AuctionStateMachine, AuctionState>().InMemoryRepository();
    x.AddConsumer<AuctionClosedConsumer>();

    x.AddRequestClient<PlaceBid>(RequestTimeout.After(s: 10));
    x.AddRequestClient<GetAuction>(RequestTimeout.After(s: 10));

    // Connection and settings come from RedisStreamsTransportOptions (bound above).
    x.UsingRedisStreams((context, cfg) =>
    {
        cfg.UseRedisStreamsMessageScheduler();
        cfg.ConfigureEndpoints(context);
    });
});

// Start the bus before the app takes requests, so that the first bid finds the saga's consumer group.
builder.Services.Configure<MassTransitHostOptions>(options =>
{
    options.WaitUntilStarted = true;
    options.StartTimeout = TimeSpan.FromSeconds(30);
    options.StopTimeout = TimeSpan.FromSeconds(10);
});

// UsingRedisStreams registers "masstransit-bus" and "masstransit-redis-streams", both tagged "ready".
builder.Services.AddHealthChecks();

// Traces and metrics: MassTransit's and the transport's, and ASP.NET Core's. OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set
// (Aspire sets it); to the console with Telemetry:Console; otherwise collected and not exported.
var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
var console = builder.Configuration.GetValue<bool>("Telemetry:Console");
var telemetry = builder.Services.AddOpenTelemetry()
    .ConfigureResource(resource => resource.AddService(builder.Environment.ApplicationName))
    .WithMetrics(metrics =>
    {
        metrics.AddRedisStreamsInstrumentation().AddAspNetCoreInstrumentation();
        if (console)
            metrics.AddConsoleExporter();
    })
    .WithTracing(tracing =>
    {
        tracing.AddRedisStreamsInstrumentation().AddAspNetCoreInstrumentation();
        if (console)
            tracing.AddConsoleExporter();
    });
if (otlp)
    telemetry.UseOtlpExporter();

// The web view of the streams. Anyone who can open it may look; changing data (move, delete, replay, rewind) needs the
// "streams-operators" policy, which only Development grants, to anyone. Elsewhere the view is read-only: give the policy
// a real rule (a role of your identity provider) to allow changes, and put .RequireAuthorization() on the view itself.
const string OperatorsPolicy = "streams-operators";
builder.Services.AddRedisStreamsDashboard();
builder.Services.AddAuthorizationBuilder().AddPolicy(OperatorsPolicy, policy =>
{
    if (builder.Environment.IsDevelopment())
        policy.RequireAssertion(_ => true);
    else
        policy.RequireAssertion(_ => false);
});

var app = builder.Build();

app.MapGet("/", () => Results.Redirect("/streams"));
app.MapAuctions();

// Liveness: the process answers. Readiness: the bus runs and reaches Redis ("ready" checks); a lagging endpoint is
// Degraded, which still answers 200.
app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });

app.MapRedisStreamsDashboard("/streams", options =>
{
    options.Title = "Auction house";
    options.ChangesPolicy = app.Environment.IsDevelopment() ? OperatorsPolicy : null;
});

app.Run();

/// <summary>The entry point, public for <c>WebApplicationFactory&lt;Program&gt;</c> in the tests.</summary>
public partial class Program;
