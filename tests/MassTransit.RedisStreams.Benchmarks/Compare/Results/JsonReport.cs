namespace MassTransit.RedisStreams.Benchmarks.Compare.Results;

using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;


/// <summary>The results for machines: every number and ratio, the settings and the machine.</summary>
public static class JsonReport
{
    public static string Write(ResultSet results)
    {
        var options = results.Options;
        var root = new JsonObject
        {
            ["machine"] = JsonSerializer.SerializeToNode(results.Machine, JsonSerializerOptions.Web),
            ["options"] = new JsonObject
            {
                ["quick"] = options.Quick,
                ["messages"] = options.Messages,
                ["inFlight"] = options.InFlight,
                ["latencyRates"] = new JsonArray(options.LatencyRates.Select(x => (JsonNode)x).ToArray()),
                ["latencyWarmupSeconds"] = options.LatencyWarmup.TotalSeconds,
                ["latencySeconds"] = options.LatencyDuration.TotalSeconds,
                ["sequentialRequests"] = options.SequentialRequests,
                ["concurrentRequests"] = options.ConcurrentRequests,
                ["idleEndpoints"] = options.IdleEndpoints,
                ["idleWindowSeconds"] = options.IdleWindow.TotalSeconds,
                ["memoryEntries"] = options.MemoryEntries,
                ["crashMessages"] = options.CrashMessages,
                ["crashClaimTimeoutSeconds"] = options.CrashClaimTimeout?.TotalSeconds,
                ["scaleMessages"] = options.ScaleMessages,
                ["steadyMessages"] = options.SteadyMessages
            }
        };

        var workloads = new JsonArray();
        foreach (var workload in results.Workloads)
        {
            var metrics = new JsonArray();
            foreach (var metric in workload.Metrics)
            {
                var values = new JsonObject();
                foreach (var (transport, outcome) in workload.Outcomes)
                    values[transport] = outcome.Values.TryGetValue(metric.Key, out var value) ? value : null;

                metrics.Add(new JsonObject
                {
                    ["key"] = metric.Key,
                    ["label"] = metric.Label,
                    ["unit"] = metric.Unit,
                    ["higherIsBetter"] = metric.HigherIsBetter,
                    ["values"] = values,
                    ["ratios"] = new JsonObject
                    {
                        ["redisStreamsToInMemory"] = workload.Ratio(metric, TransportNames.InMemory),
                        ["redisStreamsToRabbitMq"] = workload.Ratio(metric, TransportNames.RabbitMq),
                        ["redisStreamsToRawRedis"] = workload.Ratio(metric, TransportNames.RawRedis)
                    }
                });
            }

            var outcomes = new JsonObject();
            foreach (var (transport, outcome) in workload.Outcomes)
                outcomes[transport] = JsonSerializer.SerializeToNode(outcome, JsonSerializerOptions.Web);

            workloads.Add(new JsonObject
            {
                ["id"] = workload.Id,
                ["title"] = workload.Title,
                ["settings"] = workload.Settings,
                ["metrics"] = metrics,
                ["outcomes"] = outcomes
            });
        }

        root["workloads"] = workloads;
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
