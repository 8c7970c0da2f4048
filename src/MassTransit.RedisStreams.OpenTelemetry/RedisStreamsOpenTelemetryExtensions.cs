namespace MassTransit;

using System;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;


/// <summary>
/// Adds the transport's instrumentation to OpenTelemetry: <c>.WithMetrics(x => x.AddRedisStreamsInstrumentation())</c> and
/// <c>.WithTracing(x => x.AddRedisStreamsInstrumentation())</c>.
/// </summary>
public static class RedisStreamsOpenTelemetryExtensions
{
    /// <summary>MassTransit's meter and activity source, under which it reports sends, consumes and their durations.</summary>
    const string MassTransitSource = "MassTransit";

    /// <summary>
    /// Collects MassTransit's metrics (<c>MassTransit</c> meter: messages sent, consumed, their durations and faults) and the
    /// transport's (<see cref="RedisStreamsInstrumentation.MeterName" />: lag, pending entries, claims, moves to <c>_error</c>
    /// and <c>_skipped</c>, Redis calls and reconnects, ...).
    /// </summary>
    /// <param name="builder">The meter provider builder.</param>
    /// <returns>The builder.</returns>
    public static MeterProviderBuilder AddRedisStreamsInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        return builder.AddMeter(MassTransitSource, RedisStreamsInstrumentation.MeterName);
    }

    /// <summary>
    /// Collects MassTransit's traces (<c>MassTransit</c> activity source): a send and its consume share one trace across
    /// processes, the trace context travelling in each entry's <c>MT-Activity-Id</c> field (a W3C <c>traceparent</c>).
    /// </summary>
    /// <param name="builder">The tracer provider builder.</param>
    /// <returns>The builder.</returns>
    public static TracerProviderBuilder AddRedisStreamsInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        return builder.AddSource(MassTransitSource);
    }
}
