namespace MassTransit.RedisStreams.Benchmarks.Compare.Results;

using System.Collections.Generic;
using System.Text.Json.Serialization;


/// <summary>What one workload gave on one transport: numbers, or why there are none.</summary>
public sealed class Outcome
{
    public const string Ok = "ok";
    public const string NotApplicable = "n/a";
    public const string NotAvailable = "not available";
    public const string Failed = "failed";

    public string Status { get; init; } = Ok;

    /// <summary>Why there are no numbers (for a status other than ok).</summary>
    public string? Reason { get; init; }

    /// <summary>The workload's metrics, by metric key.</summary>
    public Dictionary<string, double> Values { get; init; } = new();

    /// <summary>Further numbers that are not compared across transports, such as the per-command breakdown of the idle cost.</summary>
    public Dictionary<string, double> Details { get; init; } = new();

    /// <summary>Readings taken along a run (the steady workload's memory samples); in results.json only.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<Sample>? Samples { get; set; }

    public static Outcome Missing(string status, string reason) => new() { Status = status, Reason = reason };
}
