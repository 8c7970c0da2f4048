// The Python event broker's replay example, on MassTransit and Redis Streams: read the history of AuctionEnded
// (get_event_history), look at its stream (get_stream_info), read from a point with a count, and replay the history to an
// endpoint to rebuild a sales report from the beginning (replay_events). It reads what the AuctionHouse example published;
// run after a restart of Redis, it shows that the log survived. Exits 0 when the rebuilt report matches the history.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using AuctionReplay;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });

var redisConnection = Environment.GetEnvironmentVariable("REDIS_CONNECTION");
if (!string.IsNullOrWhiteSpace(redisConnection))
    builder.Configuration.AddInMemoryCollection([new KeyValuePair<string, string?>("RedisStreams:Configuration", redisConnection)]);

builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton<SalesReport>();
builder.Services.AddOptions<RedisStreamsTransportOptions>().BindConfiguration("RedisStreams");
builder.Services.Configure<MassTransitHostOptions>(options =>
{
    options.WaitUntilStarted = true;
    options.StartTimeout = TimeSpan.FromSeconds(30);
});
builder.Services.AddMassTransit(x =>
{
    x.SetKebabCaseEndpointNameFormatter();
    x.AddConsumer<SalesReportProjection>().Endpoint(e =>
    {
        e.Name = "sales-report";
        e.ConcurrentMessageLimit = 1;
    });
    x.UsingRedisStreams();
});

using var host = builder.Build();
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

try
{
    await host.StartAsync(timeout.Token);
}
catch (Exception exception) when (exception is OperationCanceledException or MassTransitException)
{
    await Console.Error.WriteLineAsync($"error: the bus did not start: {exception.Message}. Start Redis, or set REDIS_CONNECTION.");
    return 1;
}

try
{
    var events = host.Services.GetRequiredService<IRedisStreamsEventHistory>();

    var info = await events.GetStreamInfo<AuctionEnded>(timeout.Token);
    if (info.Length == 0)
    {
        Console.WriteLine("The log is empty; publishing three auctions first (run the AuctionHouse example for more).");
        var bus = host.Services.GetRequiredService<IBus>();
        await bus.Publish(new AuctionEnded(Guid.NewGuid(), "Tea set", "frank", 95m, DateTime.UtcNow), timeout.Token);
        await bus.Publish(new AuctionEnded(Guid.NewGuid(), "Rocking chair", null, 0m, DateTime.UtcNow), timeout.Token);
        await bus.Publish(new AuctionEnded(Guid.NewGuid(), "Globe", "grace", 240m, DateTime.UtcNow), timeout.Token);
        info = await events.GetStreamInfo<AuctionEnded>(timeout.Token);
    }

    // get_stream_info("AuctionEnded")['length'], and more.
    Console.WriteLine($"> GetStreamInfo<AuctionEnded>()");
    Console.WriteLine($"  {info.StreamKey}: {info.Length} events, first {info.FirstEntryId} ({info.FirstEntryTime:u}), last {info.LastEntryId} "
        + $"({info.LastEntryTime:u}), {info.MemoryBytes} bytes");
    foreach (var group in info.Groups)
        Console.WriteLine($"  group {group.Name}: pending {group.Pending}, lag {group.Lag?.ToString(CultureInfo.InvariantCulture) ?? "?"}, last delivered {group.LastDeliveredId}");

    // get_event_history("AuctionEnded", count=10): newest first, typed.
    Console.WriteLine("> GetEvents<AuctionEnded>(count: 10)");
    foreach (var stored in await events.GetEvents<AuctionEnded>(count: 10, cancellationToken: timeout.Token))
        Console.WriteLine($"  {stored.EntryId}  {Describe(stored)}");

    // replay_events("AuctionEnded", from_id=..., count=5), read first: the five oldest from a point.
    Console.WriteLine($"> ReadEvents<AuctionEnded>(from: \"{info.FirstEntryId}\", count: 5)");
    await foreach (var stored in events.ReadEvents<AuctionEnded>(from: info.FirstEntryId!, count: 5, cancellationToken: timeout.Token))
        Console.WriteLine($"  {stored.EntryId}  {Describe(stored)}");

    // The report, as the whole history says it should be.
    long total = 0;
    long sold = 0;
    var amount = 0m;
    await foreach (var stored in events.ReadEvents<AuctionEnded>(cancellationToken: timeout.Token))
    {
        total++;
        if (stored.Message is { Winner: not null } auction)
        {
            sold++;
            amount += auction.Amount;
        }
    }

    // Rebuild the report from the beginning: the whole history again, to the sales-report endpoint only.
    var report = host.Services.GetRequiredService<SalesReport>();
    report.Reset(total);
    Console.WriteLine("> Replay<AuctionEnded>(toEndpoint: \"sales-report\")");
    var replayed = await events.Replay<AuctionEnded>("sales-report", cancellationToken: timeout.Token);
    await report.Rebuilt.WaitAsync(timeout.Token);

    Console.WriteLine($"  replayed {replayed} events; the rebuilt report: {report.Sold} of {report.Events} lots sold for {report.Total:N2} in all");
    Console.WriteLine($"  the history says:              {sold} of {total} lots sold for {amount:N2} in all");

    var matches = replayed == total && report.Events == total && report.Sold == sold && report.Total == amount;
    Console.WriteLine(matches ? "Done: the report rebuilt from the log matches its history." : "error: the rebuilt report does not match the history.");
    return matches ? 0 : 1;
}
catch (OperationCanceledException)
{
    await Console.Error.WriteLineAsync("error: timed out after 60 s.");
    return 1;
}
finally
{
    await host.StopAsync(CancellationToken.None);
}

static string Describe(RedisStreamsStoredEvent<AuctionEnded> stored) => stored.Message is { } auction
    ? $"{auction.Item}: {(auction.Winner is null ? "unsold" : $"{auction.Winner} paid {auction.Amount:N2}")}"
      + (stored.Headers.Get<string>("RunId") is { } runId ? $" (run {runId})" : "")
    : $"does not read as AuctionEnded: {stored.Error?.Message}";
