namespace MassTransit.RedisStreams.Benchmarks.Compare.Results;

using System;
using System.Globalization;
using System.Linq;
using System.Text;


/// <summary>The results as a Markdown table, with this transport's value divided by each of the others'.</summary>
public static class MarkdownReport
{
    public static string Write(ResultSet results)
    {
        var machine = results.Machine;
        var text = new StringBuilder();
        text.AppendLine("# MassTransit.RedisStreams compared");
        text.AppendLine();
        var quick = results.Options.Quick ? "; --quick counts" : "";
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{machine.Date:yyyy-MM-dd HH:mm} UTC; {machine.Cores} cores ({machine.Cpu}); {machine.Os}; {machine.Dotnet}; MassTransit {machine.MassTransit}; redis-server {machine.RedisServer ?? "-"}; RabbitMQ {machine.RabbitMq ?? "not available"}{quick}.");
        text.AppendLine();
        text.AppendLine("Ratios are redis-streams ÷ the other transport; read them with the better direction of each row.");
        text.AppendLine();
        text.AppendLine("| Workload | Metric | Better | redis-streams | in-memory | rabbitmq | raw-redis | ÷ in-memory | ÷ rabbitmq | ÷ raw-redis |");
        text.AppendLine("|---|---|---|--:|--:|--:|--:|--:|--:|--:|");

        foreach (var workload in results.Workloads)
        foreach (var metric in workload.Metrics)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {workload.Id} | {metric.Label} ({metric.Unit}) | {(metric.HigherIsBetter ? "higher" : "lower")} |");
            foreach (var transport in TransportNames.All)
                text.Append(' ').Append(Cell(workload, metric, transport)).Append(" |");
            foreach (var other in new[] { TransportNames.InMemory, TransportNames.RabbitMq, TransportNames.RawRedis })
                text.Append(' ').Append(workload.Ratio(metric, other) is { } ratio ? ratio.ToString("0.00", CultureInfo.InvariantCulture) : "").Append(" |");
            text.AppendLine();
        }

        text.AppendLine();
        text.AppendLine("## Settings and details");
        text.AppendLine();
        foreach (var workload in results.Workloads)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- **{workload.Id}** — {workload.Title}. {workload.Settings}");
            foreach (var (transport, outcome) in workload.Outcomes)
            {
                if (outcome.Status != Outcome.Ok)
                    text.AppendLine(CultureInfo.InvariantCulture, $"  - {transport}: {outcome.Status}{(outcome.Reason is null ? "" : " — " + outcome.Reason)}");
                else if (outcome.Details.Count > 0)
                {
                    text.AppendLine(CultureInfo.InvariantCulture,
                        $"  - {transport}: {string.Join(", ", outcome.Details.Select(x => $"{x.Key} {Format(x.Value)}"))}");
                }
            }
        }

        return text.ToString();
    }

    static string Cell(WorkloadResult workload, Metric metric, string transport)
    {
        if (!workload.Outcomes.TryGetValue(transport, out var outcome))
            return "";
        if (outcome.Status != Outcome.Ok)
            return outcome.Status;

        return outcome.Values.TryGetValue(metric.Key, out var value) ? Format(value) : "n/a";
    }

    public static string Format(double value)
    {
        var magnitude = Math.Abs(value);
        var format = magnitude >= 1000 ? "#,0" : magnitude >= 100 ? "0" : magnitude >= 10 ? "0.0" : "0.00";
        return value.ToString(format, CultureInfo.InvariantCulture);
    }
}
