namespace MassTransit.RedisStreams.Benchmarks.Compare;

using System;
using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;


/// <summary>
/// OpenTelemetry as an application sets it up, with exporters that drop what they are given: what the instrumentation costs
/// the benchmark is what collecting it costs, not what sending it somewhere does.
/// </summary>
static class BenchInstrumentation
{
    public static IDisposable? Start(string mode)
    {
        if (mode == "off")
            return null;

        var builder = Sdk.CreateMeterProviderBuilder();
        builder = mode == "transport" ? builder.AddMeter(RedisStreamsInstrumentation.MeterName) : builder.AddRedisStreamsInstrumentation();
        var meters = builder
            .AddReader(new PeriodicExportingMetricReader(new DroppingExporter<Metric>(), 1000))
            .Build();

        if (mode != "all")
            return meters;

        var tracer = Sdk.CreateTracerProviderBuilder()
            .AddRedisStreamsInstrumentation()
            .SetSampler(new AlwaysOnSampler())
            .AddProcessor(new BatchActivityExportProcessor(new DroppingExporter<Activity>()))
            .Build();

        return new Both(meters, tracer);
    }

    sealed class DroppingExporter<T> :
        BaseExporter<T>
        where T : class
    {
        public override ExportResult Export(in Batch<T> batch) => ExportResult.Success;
    }

    sealed class Both(IDisposable first, IDisposable second) :
        IDisposable
    {
        public void Dispose()
        {
            first.Dispose();
            second.Dispose();
        }
    }
}
