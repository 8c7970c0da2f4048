namespace MassTransit.RedisStreams.Tests.Smoke;

using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Benchmarks.Compare;
using Infrastructure;
using Xunit;


/// <summary>
/// Runs the compare suite in its smallest form (this transport, in-memory and the raw Redis loop; no RabbitMQ) against the
/// tests' Redis, under a key prefix of its own, and checks that it completes with numbers for every workload. It checks that
/// the suite runs, not how fast anything is.
/// </summary>
public class BenchmarkSmokeTests
{
    static readonly string[] Measured = [TransportNames.RedisStreams, TransportNames.InMemory, TransportNames.RawRedis];

    [Fact]
    public async Task Compare_suite_runs_every_workload_and_writes_results()
    {
        var output = Path.Combine(Path.GetTempPath(), "mt-bench-smoke-" + Guid.NewGuid().ToString("N")[..8]);
        var log = TextWriter.Synchronized(new StringWriter());
        var options = new ComparisonOptions
        {
            RedisConnection = await TestRedis.GetConnectionStringAsync(),
            RedisKeyPrefix = TestRedis.NewKeyPrefix(),
            RabbitMq = false,
            OutputDirectory = output,
            Log = log
        }.UseQuickCounts();

        options.Messages = 200;
        options.InFlight = 20;
        options.LatencyRates = [100, 1_000];
        options.LatencyWarmup = TimeSpan.FromMilliseconds(100);
        options.LatencyDuration = TimeSpan.FromMilliseconds(300);
        options.SequentialRequests = 20;
        options.ConcurrentRequests = 50;
        options.IdleEndpoints = 2;
        options.IdleSettle = TimeSpan.FromMilliseconds(200);
        options.IdleWindow = TimeSpan.FromSeconds(1);
        options.MemoryEntries = 20;
        options.CrashMessages = 150;
        options.CrashClaimTimeout = TimeSpan.FromSeconds(1);
        options.ScaleMessages = 200;
        options.SteadyMessages = 2_000;

        try
        {
            await CompareRunner.Run(options);

            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "results.json")));
            Assert.True(File.Exists(Path.Combine(output, "results.md")));

            var workloads = json.RootElement.GetProperty("workloads").EnumerateArray().ToList();
            Assert.Equal(ComparisonOptions.AllWorkloads, workloads.Select(x => x.GetProperty("id").GetString()));
            Assert.True(json.RootElement.GetProperty("machine").GetProperty("cores").GetInt32() > 0);

            foreach (var workload in workloads)
            {
                var id = workload.GetProperty("id").GetString();
                var outcomes = workload.GetProperty("outcomes");
                Assert.Contains(outcomes.GetProperty(TransportNames.RabbitMq).GetProperty("status").GetString(), new[] { "not available", "n/a" });

                var ran = Measured.Where(t => outcomes.GetProperty(t).GetProperty("status").GetString() != "n/a").ToList();
                Assert.Contains(TransportNames.RedisStreams, ran);

                foreach (var transport in ran)
                {
                    var outcome = outcomes.GetProperty(transport);
                    Assert.True(outcome.GetProperty("status").GetString() == "ok",
                        $"{id} on {transport}: {outcome.GetProperty("status").GetString()} {outcome.GetProperty("reason")}\n{log}");

                    foreach (var metric in workload.GetProperty("metrics").EnumerateArray())
                    {
                        var key = metric.GetProperty("key").GetString()!;
                        var value = metric.GetProperty("values").GetProperty(transport);

                        // Redis's memory has no value on the other transports; a growth may be below zero.
                        if (value.ValueKind == JsonValueKind.Null && transport != TransportNames.RedisStreams
                            && key.StartsWith("redis", StringComparison.Ordinal))
                            continue;

                        Assert.True(value.ValueKind == JsonValueKind.Number && (value.GetDouble() >= 0 || key.Contains("Growth", StringComparison.Ordinal)),
                            $"{id} on {transport}: {key} is {value}");
                    }

                    if (id == "steady")
                        Assert.Equal(10, outcome.GetProperty("samples").GetArrayLength());
                }
            }
        }
        finally
        {
            if (Directory.Exists(output))
                Directory.Delete(output, true);
        }
    }
}
