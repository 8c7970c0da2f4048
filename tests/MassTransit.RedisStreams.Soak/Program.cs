namespace MassTransit.RedisStreams.Soak;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using Tests.Faults;
using Tests.Infrastructure;


/// <summary>
/// The soak run: sends many messages (default 100,000) to an endpoint served by several consumer processes (default 3) on a
/// private redis-server with AOF (appendfsync always), kills a random consumer with SIGKILL every few seconds and starts a
/// new one, kills redis-server once half-way and restarts it, then waits until every accepted message was handled and reports
/// sent, processed, duplicated and lost. Exits 1 when anything was lost.
/// Usage: <c>./soak.sh [--messages 100000] [--consumers 3] [--kill-every-ms 4000]</c>.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var options = ParseOptions(args);
        var messages = options.GetValueOrDefault("messages", 100_000);
        var consumerCount = options.GetValueOrDefault("consumers", 3);
        var killEvery = TimeSpan.FromMilliseconds(options.GetValueOrDefault("kill-every-ms", 4000));
        var prefix = "soak" + Guid.NewGuid().ToString("N")[..6];

        Console.WriteLine($"soak: {messages} messages, {consumerCount} consumer processes, a consumer killed every {killEvery.TotalSeconds:F1} s, "
            + "one Redis kill and restart; redis-server with appendonly yes, appendfsync always");

        using var server = RedisServerProcess.Start(appendFsync: "always");
        using var multiplexer = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",abortConnect=false");
        var proof = new Proof(multiplexer.GetDatabase(), prefix);

        (string, object)[] hostOptions = [("prefetch", 32), ("claim-timeout-ms", 5000)];
        var consumers = new List<ConsumerHostProcess>();

        // The consumer processes are killed on the way out, also when the run fails: none is left running.
        using var killConsumers = new Cleanup(() =>
        {
            foreach (var consumer in consumers)
                consumer.Dispose();
        });
        for (var i = 0; i < consumerCount; i++)
            consumers.Add(await ConsumerHostProcess.Start(server.ConnectionString, prefix, hostOptions));

        var stopwatch = Stopwatch.StartNew();
        await using var sender = await WorkSender.Start(server.ConnectionString, prefix, sendTimeout: TimeSpan.FromSeconds(60));

        var consumerKills = 0;
        var redisRestarts = 0;
        using var chaosStop = new CancellationTokenSource();
        var random = new Random(17);

        var chaos = Task.Run(async () =>
        {
            while (!chaosStop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(killEvery, chaosStop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                var victim = random.Next(consumers.Count);
                consumers[victim].Kill();
                consumers[victim].Dispose();
                consumerKills++;
                string handledSoFar;
                try
                {
                    handledSoFar = (await proof.HandledCount()).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
                catch (StackExchange.Redis.RedisException)
                {
                    // Redis may be restarting or loading its AOF just then; the progress line does without the count.
                    handledSoFar = "?";
                }

                Console.WriteLine($"  {stopwatch.Elapsed.TotalSeconds,6:F1} s  killed a consumer (kill -9); {handledSoFar} handled so far");

                consumers[victim] = await ConsumerHostProcess.Start(server.ConnectionString, prefix, hostOptions);
            }
        });

        var restarted = 0;
        await sender.Send(0, messages, parallel: 32, afterEach: async sequence =>
        {
            if (sequence == messages / 2 && Interlocked.Exchange(ref restarted, 1) == 0)
            {
                Console.WriteLine($"  {stopwatch.Elapsed.TotalSeconds,6:F1} s  killing redis-server (kill -9), restarting it on its AOF");
                server.Kill();
                await Task.Delay(TimeSpan.FromSeconds(2));
                server.Restart();
                redisRestarts++;
            }
        });

        var sendElapsed = stopwatch.Elapsed;
        Console.WriteLine($"  {sendElapsed.TotalSeconds,6:F1} s  all sends returned: {sender.Accepted.Count} accepted, {sender.Failed.Count} failed");

        var finished = await proof.AllHandled(messages, TimeSpan.FromMinutes(10));
        await chaosStop.CancelAsync();
        await chaos;

        var counts = await proof.Count(messages);
        var accepted = sender.Accepted.ToHashSet();
        var handled = (await multiplexer.GetDatabase().HashKeysAsync(prefix + ":proof:processed")).Select(x => (int)x).ToHashSet();
        var lostAccepted = accepted.Count(x => !handled.Contains(x));

        Console.WriteLine();
        Console.WriteLine($"sent {messages}, accepted {accepted.Count}, send failures {sender.Failed.Count}");
        Console.WriteLine($"processed {counts.Processed}, duplicated {counts.Duplicated}, lost {lostAccepted}");
        Console.WriteLine($"consumer kills {consumerKills}, redis restarts {redisRestarts}, consumers at the end {consumers.Count(x => !x.HasExited)}");
        Console.WriteLine($"elapsed {stopwatch.Elapsed.TotalSeconds:F1} s ({messages / stopwatch.Elapsed.TotalSeconds:F0} msg/s end to end), "
            + $"{(finished ? "all handled" : "NOT all handled within 10 minutes")}");

        return finished && lostAccepted == 0 && sender.Failed.IsEmpty ? 0 : 1;
    }

    static Dictionary<string, int> ParseOptions(string[] args)
    {
        var options = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
            options[args[i].TrimStart('-')] = int.Parse(args[i + 1], CultureInfo.InvariantCulture);

        return options;
    }
}


/// <summary>Runs an action when disposed.</summary>
sealed class Cleanup(Action action) :
    IDisposable
{
    public void Dispose() => action();
}
