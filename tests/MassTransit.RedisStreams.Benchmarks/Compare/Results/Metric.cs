namespace MassTransit.RedisStreams.Benchmarks.Compare.Results;

/// <summary>One number a workload reports for every transport.</summary>
/// <param name="Key">Its key in <see cref="Outcome.Values" /> and results.json.</param>
/// <param name="Label">What it is, for the table.</param>
/// <param name="Unit">msg/s, ms, bytes, commands/s, s.</param>
/// <param name="HigherIsBetter">Which way is better.</param>
/// <param name="Ratios">
/// Whether dividing the transports' values means something; not for a growth that is about zero and may be below it.
/// </param>
public sealed record Metric(string Key, string Label, string Unit, bool HigherIsBetter, bool Ratios = true);
