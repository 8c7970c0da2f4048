namespace MassTransit.RedisStreams.Benchmarks.Compare;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Transports;


/// <summary>
/// The process the start-up workload starts fresh for every measurement: it builds a bus of three endpoints the way an
/// application does (<c>AddMassTransit</c>, three consumers, <c>ConfigureEndpoints</c>), times <c>StartAsync</c> — the first
/// start in the process, code still to be compiled, as an application or a test run meets it — then stops the bus, starts it
/// again and times that. Before the second start it publishes one message and times its way to the consumer: the first
/// message of a process, through code that has not run yet. It also times the way from resolving <c>IBusControl</c> (which builds
/// the bus) to the end of the first start, since a transport may do part of its starting while the bus is built, and from the
/// bus's creation (<see cref="IBusObserver.PostCreate" />) to the end of the first start: MassTransit's test harness starts
/// its inactivity timers at creation, so a harness whose inactivity timeout is shorter than this finds the bus inactive before
/// the test has begun. It writes <c>startup &lt;first&gt; &lt;again&gt; &lt;message&gt; &lt;ready&gt; &lt;created&gt;</c>, in ms.
/// </summary>
/// <remarks>Arguments: <c>--in-memory</c>, <c>--redis &lt;connection&gt; [--key-prefix p]</c> or <c>--rabbitmq &lt;address&gt;</c>.</remarks>
public static class StartupProbe
{
    public const string Mode = "startup-probe";

    public static async Task<int> Run(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
            options[args[i].TrimStart('-')] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "";

        BusTransport transport = options.TryGetValue("redis", out var redis)
            ? new RedisStreamsTransport(redis, options.GetValueOrDefault("key-prefix"))
            : options.TryGetValue("rabbitmq", out var rabbit)
                ? new RabbitMqTransport(new Uri(rabbit))
                : new InMemoryTransport();

        var services = new ServiceCollection();
        var created = new CreatedToStarted();
        services.AddBusObserver(_ => created);
        services.AddMassTransit(x =>
        {
            x.AddConsumer<StartupPlacedConsumer>();
            x.AddConsumer<StartupPaidConsumer>();
            x.AddConsumer<StartupShippedConsumer>();
            transport.Use(x, null);
        });

        await using var provider = services.BuildServiceProvider();
        var building = Stopwatch.GetTimestamp();
        var bus = provider.GetRequiredService<IBusControl>();
        var first = await TimeStart(bus);
        var ready = Stopwatch.GetElapsedTime(building).TotalMilliseconds;

        var published = Stopwatch.GetTimestamp();
        await bus.Publish(new StartupOrderPlaced(Guid.NewGuid()));
        await StartupPlacedConsumer.Consumed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var message = Stopwatch.GetElapsedTime(published).TotalMilliseconds;

        await bus.StopAsync();
        var again = await TimeStart(bus);
        await bus.StopAsync();

        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"startup {first:0.00} {again:0.00} {message:0.00} {ready:0.00} {created.Elapsed:0.00}"));
        return 0;
    }

    static async Task<double> TimeStart(IBusControl bus)
    {
        var started = Stopwatch.GetTimestamp();
        await bus.StartAsync();
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }
}


/// <summary>Times the first start from the bus's creation.</summary>
sealed class CreatedToStarted :
    IBusObserver
{
    long _created;

    public double Elapsed { get; private set; }

    public void PostCreate(IBus bus) => _created = Stopwatch.GetTimestamp();

    public void CreateFaulted(Exception exception)
    {
    }

    public Task PreStart(IBus bus) => Task.CompletedTask;

    public Task PostStart(IBus bus, Task<BusReady> busReady)
    {
        if (Elapsed == 0)
            Elapsed = Stopwatch.GetElapsedTime(_created).TotalMilliseconds;
        return Task.CompletedTask;
    }

    public Task StartFaulted(IBus bus, Exception exception) => Task.CompletedTask;

    public Task PreStop(IBus bus) => Task.CompletedTask;

    public Task PostStop(IBus bus) => Task.CompletedTask;

    public Task StopFaulted(IBus bus, Exception exception) => Task.CompletedTask;
}


public record StartupOrderPlaced(Guid OrderId);


public record StartupOrderPaid(Guid OrderId);


public record StartupOrderShipped(Guid OrderId);


public sealed class StartupPlacedConsumer :
    IConsumer<StartupOrderPlaced>
{
    /// <summary>Completed by the first message the process consumes.</summary>
    public static readonly TaskCompletionSource Consumed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Consume(ConsumeContext<StartupOrderPlaced> context)
    {
        Consumed.TrySetResult();
        return Task.CompletedTask;
    }
}


public sealed class StartupPaidConsumer :
    IConsumer<StartupOrderPaid>
{
    public Task Consume(ConsumeContext<StartupOrderPaid> context) => Task.CompletedTask;
}


public sealed class StartupShippedConsumer :
    IConsumer<StartupOrderShipped>
{
    public Task Consume(ConsumeContext<StartupOrderShipped> context) => Task.CompletedTask;
}
