namespace MassTransit;

/// <summary>
/// The names under which the transport reports metrics, for OpenTelemetry or any <c>System.Diagnostics.Metrics</c> listener:
/// <c>.AddMeter(RedisStreamsInstrumentation.MeterName)</c> beside MassTransit's own <c>MassTransit</c> meter and activity
/// source, or <c>AddRedisStreamsInstrumentation()</c> from the <c>MassTransit.RedisStreams.OpenTelemetry</c> package, which
/// adds all three.
/// </summary>
public static class RedisStreamsInstrumentation
{
    /// <summary>The transport's meter: lag, pending entries, claims, moves to <c>_error</c> and <c>_skipped</c>, Redis calls, ...</summary>
    public const string MeterName = "MassTransit.RedisStreams";

    /// <summary>The name of the health check of the default bus's endpoints; an additional bus's check carries the bus's name after it.</summary>
    public const string HealthCheckName = "masstransit-redis-streams";
}
