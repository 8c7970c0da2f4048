// The auction domain of the Python event broker this transport grew out of, on MassTransit and Redis Streams: an auction
// service publishes AuctionEnded events to the stream events:AuctionEnded; a notification consumer and a reporting consumer
// each read it through a consumer group of their own, so both receive every event. When both have handled this run's
// events the program stops the bus, shows what is left in Redis and exits: 0 on success, 1 when Redis cannot be reached
// or the consumers do not finish in time.

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using AuctionHouse;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

var timeout = TimeSpan.FromSeconds(30);

// appsettings.json is looked up beside the program, so `dotnet run --project` works from any directory.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });

// REDIS_CONNECTION, when set, overrides RedisStreams:Configuration from appsettings.json.
var redisConnection = Environment.GetEnvironmentVariable("REDIS_CONNECTION");
if (!string.IsNullOrWhiteSpace(redisConnection))
    builder.Configuration.AddInMemoryCollection([new KeyValuePair<string, string?>("RedisStreams:Configuration", redisConnection)]);

builder.Logging.AddSimpleConsole(options =>
{
    options.SingleLine = true;
    options.TimestampFormat = "HH:mm:ss.fff ";
});

var run = new AuctionRun(NotificationConsumer.Name, ReportingConsumer.Name);

builder.Services.AddSingleton(run);
builder.Services.AddSingleton<SalesLedger>();
builder.Services.AddSingleton<AuctionService>();

builder.Services.AddOptions<RedisStreamsTransportOptions>().BindConfiguration("RedisStreams");

// Start the bus before the host reports started, so the consumer groups exist before the first event is published.
builder.Services.Configure<MassTransitHostOptions>(options =>
{
    options.WaitUntilStarted = true;
    options.StartTimeout = timeout;
    options.StopTimeout = TimeSpan.FromSeconds(10);
});

builder.Services.AddMassTransit(x =>
{
    // Endpoints (and so consumer groups) "notification" and "reporting".
    x.SetKebabCaseEndpointNameFormatter();

    x.AddConsumer<NotificationConsumer>();
    x.AddConsumer<ReportingConsumer>();

    // Connection and settings come from RedisStreamsTransportOptions; without a callback it calls ConfigureEndpoints.
    x.UsingRedisStreams();
});

var host = builder.Build();

var transportOptions = host.Services.GetRequiredService<IOptions<RedisStreamsTransportOptions>>().Value;
var server = Describe(transportOptions.Configuration);
var keyPrefix = transportOptions.KeyPrefix?.TrimEnd(':') is { Length: > 0 } prefix ? prefix + ":" : "";
var stream = new RedisKey(keyPrefix + "events:AuctionEnded");

Console.WriteLine($"Auction house: run {run.RunId} on Redis {server}, stream {stream}");

// The transport keeps retrying while Redis is down; a connection of our own tells at once whether it is there at all. It also
// reads the report at the end.
ConnectionMultiplexer redis;
try
{
    var options = ConfigurationOptions.Parse(transportOptions.Configuration);
    options.AbortOnConnectFail = true;
    options.ConnectTimeout = 5000;
    redis = await ConnectionMultiplexer.ConnectAsync(options);
}
catch (Exception exception) when (exception is RedisException or ArgumentException)
{
    host.Dispose();
    var reason = exception is RedisConnectionException connection
        ? $"{connection.FailureType}{(connection.InnerException is { } inner ? ": " + inner.Message : "")}"
        : exception.Message;
    await Console.Error.WriteLineAsync($"error: Redis is unreachable at {server} ({reason}).");
    await Console.Error.WriteLineAsync("Start Redis (`docker compose up -d`), run ./run-example.sh, or set REDIS_CONNECTION to a reachable server.");
    return 1;
}

await using var reportConnection = redis;

var (succeeded, outcome) = await CloseAuctions(host, run, timeout);

// Disposing the host flushes the console log, so that the lines below do not interleave with log lines.
host.Dispose();

if (succeeded)
    Console.WriteLine(outcome);
else
    await Console.Error.WriteLineAsync(outcome);

try
{
    await StreamReport.Write(redis.GetDatabase(), stream, run.RunId, Console.Out);
}
catch (Exception exception) when (exception is RedisException or TimeoutException)
{
    await Console.Error.WriteLineAsync($"error: reading the report from Redis failed: {exception.Message}");
    return 1;
}

return succeeded ? 0 : 1;

// Starts the bus, publishes this run's auctions, waits until both consumers have handled all of them, and stops the bus.
static async Task<(bool Succeeded, string Outcome)> CloseAuctions(IHost host, AuctionRun run, TimeSpan timeout)
{
    var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
    using var deadline = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping);
    deadline.CancelAfter(timeout);

    try
    {
        await host.StartAsync(deadline.Token);

        await host.Services.GetRequiredService<AuctionService>().CloseAuctions(deadline.Token);

        await run.Completed.WaitAsync(deadline.Token);

        return (true, $"Done: both consumers handled all {run.Expected} auctions of run {run.RunId} ({run.Progress()}).");
    }
    catch (OperationCanceledException) when (deadline.IsCancellationRequested)
    {
        var reason = lifetime.ApplicationStopping.IsCancellationRequested ? "interrupted" : $"timed out after {timeout.TotalSeconds:0} s";
        return (false, $"error: {reason} before both consumers handled this run's auctions: {run.Progress()}");
    }
    catch (Exception exception) when (exception is RedisException or MassTransitException or TimeoutException)
    {
        return (false, $"error: the example failed: {exception.Message}");
    }
    finally
    {
        // Stopping the bus lets the last acknowledgements (XACK) go out, so the report shows nothing pending.
        await host.StopAsync(CancellationToken.None);
    }
}

static string Describe(string configuration)
{
    try
    {
        return ConfigurationOptions.Parse(configuration).ToString(includePassword: false);
    }
    catch (ArgumentException)
    {
        return configuration;
    }
}
