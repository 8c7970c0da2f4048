namespace MassTransit.RedisStreams.Benchmarks.Compare;

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Transports;


/// <summary>
/// The consumer process of the crash and scale-out workloads: consumes <see cref="WorkItem" /> from one queue with the
/// transport's defaults and reports on stdout. With <c>--report each</c> it writes <c>h &lt;sequence&gt; &lt;0|1 redelivered&gt;</c>
/// before a handler returns (so before the message is acknowledged); with <c>--report count</c>, <c>c &lt;handled&gt;</c>
/// every 20 ms. It exits when its stdin closes, so it does not outlive the benchmark.
/// </summary>
/// <remarks>
/// Arguments: <c>--queue</c>, then <c>--redis &lt;connection&gt; [--key-prefix p] [--claim-timeout-ms n]</c> or
/// <c>--rabbitmq &lt;address&gt;</c>, and <c>--handler-ms</c> (0), <c>--report each|count</c>.
/// </remarks>
public static class Worker
{
    public const string Mode = "worker";

    public static async Task<int> Run(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
            options[args[i].TrimStart('-')] = args[i + 1];

        BusTransport transport = options.TryGetValue("redis", out var redis)
            ? new RedisStreamsTransport(redis, options.GetValueOrDefault("key-prefix"),
                options.TryGetValue("claim-timeout-ms", out var claim) ? TimeSpan.FromMilliseconds(int.Parse(claim, CultureInfo.InvariantCulture)) : null)
            : new RabbitMqTransport(new Uri(options["rabbitmq"]));

        var queue = options["queue"];
        var report = new WorkReport(options.GetValueOrDefault("report", "each") == "each",
            TimeSpan.FromMilliseconds(int.Parse(options.GetValueOrDefault("handler-ms", "0"), CultureInfo.InvariantCulture)));

        var services = new ServiceCollection();
        services.AddSingleton(report);
        services.AddMassTransit(x =>
        {
            x.AddConsumer<WorkConsumer>().Endpoint(e => e.Name = queue);
            transport.Use(x, null);
        });

        await using var provider = services.BuildServiceProvider();
        var bus = provider.GetRequiredService<IBusControl>();
        await bus.StartAsync();
        Console.Out.WriteLine("ready");
        Console.Out.Flush();

        using var counting = new CancellationTokenSource();
        var counter = report.Each ? Task.CompletedTask : report.WriteCounts(counting.Token);

        // The parent closes stdin (or dies) when it is done with this process.
        await Task.Run(() => Console.In.ReadToEnd());

        await counting.CancelAsync();
        await counter;
        await bus.StopAsync();
        return 0;
    }
}


public sealed class WorkReport(bool each, TimeSpan handlerDelay)
{
    readonly object _lock = new();
    int _handled;

    public bool Each => each;
    public TimeSpan HandlerDelay => handlerDelay;

    public void Handled(int sequence, bool redelivered)
    {
        if (each)
        {
            lock (_lock)
            {
                Console.Out.Write(string.Create(CultureInfo.InvariantCulture, $"h {sequence} {(redelivered ? 1 : 0)}\n"));
                Console.Out.Flush();
            }
        }
        else
            Interlocked.Increment(ref _handled);
    }

    public async Task WriteCounts(CancellationToken stop)
    {
        var written = -1;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var handled = Volatile.Read(ref _handled);
                if (handled != written)
                {
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"c {handled}"));
                    Console.Out.Flush();
                    written = handled;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
            // The parent went away.
        }
    }
}


public sealed class WorkConsumer(WorkReport report) :
    IConsumer<WorkItem>
{
    public async Task Consume(ConsumeContext<WorkItem> context)
    {
        if (report.HandlerDelay > TimeSpan.Zero)
            await Task.Delay(report.HandlerDelay);

        report.Handled(context.Message.Sequence, context.ReceiveContext.Redelivered);
    }
}
