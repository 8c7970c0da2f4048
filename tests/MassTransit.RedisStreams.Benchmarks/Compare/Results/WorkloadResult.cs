namespace MassTransit.RedisStreams.Benchmarks.Compare.Results;

using System.Collections.Generic;


/// <summary>A workload's metrics and what each transport gave.</summary>
public sealed class WorkloadResult
{
    public required string Id { get; init; }
    public required string Title { get; init; }

    /// <summary>The settings that shape the numbers: counts, rates, in-flight limit.</summary>
    public required string Settings { get; init; }

    public required IReadOnlyList<Metric> Metrics { get; init; }

    /// <summary>By transport name (see <see cref="TransportNames" />).</summary>
    public Dictionary<string, Outcome> Outcomes { get; } = new();

    /// <summary>This transport's value divided by <paramref name="other" />'s, when both have the metric.</summary>
    public double? Ratio(Metric metric, string other)
    {
        if (!metric.Ratios)
            return null;

        if (!Outcomes.TryGetValue(TransportNames.RedisStreams, out var ours) || !Outcomes.TryGetValue(other, out var theirs))
            return null;

        if (!ours.Values.TryGetValue(metric.Key, out var a) || !theirs.Values.TryGetValue(metric.Key, out var b) || b == 0)
            return null;

        return a / b;
    }
}
