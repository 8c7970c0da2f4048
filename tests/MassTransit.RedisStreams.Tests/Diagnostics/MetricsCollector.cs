namespace MassTransit.RedisStreams.Tests.Diagnostics;

using System;
using System.Collections.Generic;
using System.Linq;
using OpenTelemetry;
using OpenTelemetry.Metrics;


/// <summary>
/// OpenTelemetry's SDK with its in-memory exporter, as an application would set it up with
/// <c>AddRedisStreamsInstrumentation()</c>; <see cref="Collect" /> exports what was measured so far (cumulative) and returns it
/// as points.
/// </summary>
public sealed class MetricsCollector :
    IDisposable
{
    readonly List<Metric> _exported = [];
    readonly MeterProvider _provider;

    public MetricsCollector()
    {
        _provider = Sdk.CreateMeterProviderBuilder()
            .AddRedisStreamsInstrumentation()
            .AddInMemoryExporter(_exported)
            .Build()!;
    }

    public void Dispose() => _provider.Dispose();

    /// <summary>Every point measured so far, by metric name.</summary>
    public IReadOnlyList<MetricPointValue> Collect()
    {
        lock (_exported)
        {
            _exported.Clear();
            _provider.ForceFlush();

            var points = new List<MetricPointValue>();
            foreach (var metric in _exported)
            {
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    var tags = new Dictionary<string, object?>();
                    foreach (var tag in point.Tags)
                        tags[tag.Key] = tag.Value;

                    double value = metric.MetricType switch
                    {
                        MetricType.LongSum or MetricType.LongSumNonMonotonic => point.GetSumLong(),
                        MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic => point.GetSumDouble(),
                        MetricType.LongGauge => point.GetGaugeLastValueLong(),
                        MetricType.DoubleGauge => point.GetGaugeLastValueDouble(),
                        MetricType.Histogram => point.GetHistogramCount(),
                        _ => double.NaN
                    };

                    points.Add(new MetricPointValue(metric.Name, metric.MeterName, tags, value));
                }
            }

            return points;
        }
    }

    /// <summary>The sum of the points of <paramref name="name" /> whose tags include all of <paramref name="tags" />.</summary>
    public double Sum(string name, params (string Key, object? Value)[] tags)
    {
        return Collect().Where(x => x.Name == name && tags.All(t => x.Tags.TryGetValue(t.Key, out var v) && Equals(v, t.Value))).Sum(x => x.Value);
    }
}


public sealed record MetricPointValue(string Name, string MeterName, IReadOnlyDictionary<string, object?> Tags, double Value);
