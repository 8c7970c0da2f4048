namespace MassTransit.RedisStreams.Benchmarks.Compare.Workloads;

using System.Collections.Generic;
using System.Threading.Tasks;
using Results;


/// <summary>One thing measured the same way on every transport it applies to.</summary>
public abstract class Workload
{
    /// <summary>The name <c>--only</c> takes.</summary>
    public abstract string Id { get; }

    public abstract string Title { get; }

    public abstract string Settings(ComparisonOptions options);

    public abstract IReadOnlyList<Metric> Metrics(ComparisonOptions options);

    /// <summary>Why the workload does not apply to <paramref name="transport" />, or null when it does.</summary>
    public virtual string? NotApplicable(string transport) => null;

    /// <summary>Runs on a transport, starting from an empty broker; returns the metrics by key.</summary>
    public abstract Task<Outcome> Run(string transport, BenchEnvironment environment, RunScope scope);
}
