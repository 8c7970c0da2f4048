namespace MassTransit.RedisStreams.Benchmarks.Compare.Results;

using System.Collections.Generic;


/// <summary>Everything one compare run measured.</summary>
public sealed class ResultSet
{
    public required MachineInfo Machine { get; init; }
    public required ComparisonOptions Options { get; init; }
    public List<WorkloadResult> Workloads { get; } = [];
}
