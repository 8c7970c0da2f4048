namespace MassTransit.RedisStreams.Diagnostics;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;


/// <summary>
/// The transport's instruments, on the <see cref="RedisStreamsInstrumentation.MeterName" /> meter beside MassTransit's own
/// <c>MassTransit</c> meter (which counts sends, consumes and their durations). Counters are counted where the event happens,
/// at the cost of a check when no one listens; the per-endpoint gauges report what the endpoint knows in process, and what its
/// <see cref="EndpointSampler" /> last read from Redis.
/// </summary>
/// <remarks>
/// Names follow OpenTelemetry's messaging conventions where they have one (<c>messaging.consumer.group.name</c>,
/// <c>messaging.destination.name</c>, <c>messaging.system</c>); what is particular to Redis Streams is under
/// <c>messaging.redis_streams.*</c>.
/// </remarks>
static class TransportMetrics
{
    public const string System = "redis_streams";

    public const string SystemTag = "messaging.system";
    public const string GroupTag = "messaging.consumer.group.name";
    public const string DestinationTag = "messaging.destination.name";
    public const string ReasonTag = "messaging.redis_streams.reason";
    public const string TargetTag = "messaging.redis_streams.target";
    public const string TriggerTag = "messaging.redis_streams.trigger";

    static readonly Meter Meter = new(RedisStreamsInstrumentation.MeterName, typeof(TransportMetrics).Assembly.GetName().Version?.ToString(3));

    static readonly ConcurrentDictionary<EndpointMonitor, byte> Endpoints = new();
    static readonly KeyValuePair<string, object?> SystemPair = new(SystemTag, System);

    public static readonly Counter<long> Claimed = Meter.CreateCounter<long>("messaging.redis_streams.claimed", "{entry}",
        "Pending entries an endpoint claimed: from an instance that died (reason dead_consumer) or idle past the claim timeout (reason idle).");

    public static readonly Counter<long> Moved = Meter.CreateCounter<long>("messaging.redis_streams.moved", "{entry}",
        "Entries moved to an endpoint's _error or _skipped stream (target), by reason (fault, max-deliveries, invalid-entry, skipped, expired, ...).");

    public static readonly Counter<long> Expired = Meter.CreateCounter<long>("messaging.redis_streams.expired", "{message}",
        "Messages whose time to live had passed when they were read: not delivered, dropped or moved to _skipped.");

    public static readonly Counter<long> DuplicatesRefused = Meter.CreateCounter<long>("messaging.redis_streams.duplicates_refused", "{message}",
        "Sends and publishes not appended because the stream had the same message from within the duplicate detection window.");

    public static readonly Counter<long> Scheduled = Meter.CreateCounter<long>("messaging.redis_streams.scheduled", "{message}",
        "Messages sent with a delay or scheduled: held in Redis until due.");

    public static readonly Counter<long> ScheduledDelivered = Meter.CreateCounter<long>("messaging.redis_streams.scheduled.delivered", "{message}",
        "Delayed and scheduled messages appended to their stream once due.");

    public static readonly Histogram<double> ScheduledLateness = Meter.CreateHistogram<double>("messaging.redis_streams.scheduled.lateness", "s",
        "How long after its due time the earliest message of a batch of due messages was appended to its stream.");

    public static readonly Counter<long> Trimmed = Meter.CreateCounter<long>("messaging.redis_streams.trimmed", "{entry}",
        "Entries removed from streams by retention.");

    public static readonly Counter<long> IdleWaits = Meter.CreateCounter<long>("messaging.redis_streams.idle_waits", "{wait}",
        "Ends of an idle endpoint's waits for new entries: by a wake-up (trigger wake) or because the idle poll interval passed (trigger poll).");

    public static readonly Counter<long> RedisCalls = Meter.CreateCounter<long>("messaging.redis_streams.redis.calls", "{call}",
        "Calls the transport made to Redis: each one round trip, of one command or of a pipelined group of commands.");

    public static readonly Counter<long> ConnectionFailures = Meter.CreateCounter<long>("messaging.redis_streams.redis.connection_failures", "{failure}",
        "Connections to a Redis server that failed.");

    public static readonly Counter<long> Reconnects = Meter.CreateCounter<long>("messaging.redis_streams.redis.reconnects", "{reconnect}",
        "Connections to a Redis server that were restored after a failure.");

    public static readonly ObservableGauge<long> Lag = Meter.CreateObservableGauge("messaging.redis_streams.consumer.lag", ObserveLag, "{entry}",
        "Entries of a stream an endpoint's consumer group has not read yet (XINFO GROUPS lag), as last sampled.");

    public static readonly ObservableGauge<long> Pending = Meter.CreateObservableGauge("messaging.redis_streams.consumer.pending", ObservePending, "{entry}",
        "Entries of a stream read by an endpoint's consumer group and not acknowledged yet, by every instance, as last sampled.");

    public static readonly ObservableGauge<double> OldestPendingAge = Meter.CreateObservableGauge("messaging.redis_streams.consumer.oldest_pending.age",
        ObserveOldestPending, "s", "How long ago the oldest entry pending in an endpoint's consumer group, as last sampled, was appended.");

    public static readonly ObservableGauge<long> Held = Meter.CreateObservableGauge("messaging.redis_streams.consumer.held", ObserveHeld, "{entry}",
        "Entries an endpoint of this process holds: read ahead, being handled, or waiting for their acknowledgement.");

    /// <summary>True when someone listens to a gauge that needs samples from Redis.</summary>
    public static bool SamplesWanted => Lag.Enabled || Pending.Enabled || OldestPendingAge.Enabled;

    public static TagList EndpointTags(string group)
    {
        return new TagList { SystemPair, { GroupTag, group } };
    }

    public static void Add(EndpointMonitor endpoint) => Endpoints.TryAdd(endpoint, 0);

    public static void Remove(EndpointMonitor endpoint) => Endpoints.TryRemove(endpoint, out _);

    /// <summary>Counts a call to Redis.</summary>
    public static void CountCall()
    {
        if (RedisCalls.Enabled)
            RedisCalls.Add(1, SystemPair);
    }

    public static void CountClaimed(string group, int count, bool fromDead)
    {
        if (count > 0 && Claimed.Enabled)
            Claimed.Add(count, SystemPair, new KeyValuePair<string, object?>(GroupTag, group), new KeyValuePair<string, object?>(ReasonTag, fromDead ? "dead_consumer" : "idle"));
    }

    public static void CountMoved(string group, string target, string? reason)
    {
        if (Moved.Enabled)
        {
            Moved.Add(1, SystemPair, new KeyValuePair<string, object?>(GroupTag, group), new KeyValuePair<string, object?>(TargetTag, target),
                new KeyValuePair<string, object?>(ReasonTag, reason ?? "unspecified"));
        }
    }

    public static void CountExpired(string group)
    {
        if (Expired.Enabled)
            Expired.Add(1, SystemPair, new KeyValuePair<string, object?>(GroupTag, group));
    }

    public static void CountDuplicateRefused(string destination)
    {
        if (DuplicatesRefused.Enabled)
            DuplicatesRefused.Add(1, SystemPair, new KeyValuePair<string, object?>(DestinationTag, destination));
    }

    public static void CountScheduled(string destination)
    {
        if (Scheduled.Enabled)
            Scheduled.Add(1, SystemPair, new KeyValuePair<string, object?>(DestinationTag, destination));
    }

    public static void CountScheduledDelivered(string destination, long count, TimeSpan lateness)
    {
        if (count <= 0)
            return;

        var destinationPair = new KeyValuePair<string, object?>(DestinationTag, destination);
        if (ScheduledDelivered.Enabled)
            ScheduledDelivered.Add(count, SystemPair, destinationPair);
        if (ScheduledLateness.Enabled)
            ScheduledLateness.Record(Math.Max(0, lateness.TotalSeconds), SystemPair, destinationPair);
    }

    public static void CountTrimmed(string destination, long count)
    {
        if (count > 0 && Trimmed.Enabled)
            Trimmed.Add(count, SystemPair, new KeyValuePair<string, object?>(DestinationTag, destination));
    }

    public static void CountIdleWait(string group, bool woken)
    {
        if (IdleWaits.Enabled)
            IdleWaits.Add(1, SystemPair, new KeyValuePair<string, object?>(GroupTag, group), new KeyValuePair<string, object?>(TriggerTag, woken ? "wake" : "poll"));
    }

    public static void CountConnectionChange(bool restored)
    {
        var counter = restored ? Reconnects : ConnectionFailures;
        if (counter.Enabled)
            counter.Add(1, SystemPair);
    }

    static IEnumerable<Measurement<long>> ObserveLag()
    {
        foreach (var endpoint in Endpoints.Keys)
        {
            foreach (var sample in endpoint.Samples)
            {
                if (sample.Lag is { } lag)
                    yield return new Measurement<long>(lag, SystemPair, endpoint.GroupPair, sample.DestinationPair);
            }
        }
    }

    static IEnumerable<Measurement<long>> ObservePending()
    {
        foreach (var endpoint in Endpoints.Keys)
        {
            foreach (var sample in endpoint.Samples)
                yield return new Measurement<long>(sample.Pending, SystemPair, endpoint.GroupPair, sample.DestinationPair);
        }
    }

    static IEnumerable<Measurement<double>> ObserveOldestPending()
    {
        foreach (var endpoint in Endpoints.Keys)
        {
            var now = endpoint.Now;
            foreach (var sample in endpoint.Samples)
                yield return new Measurement<double>(sample.OldestPendingAgeAt(now).TotalSeconds, SystemPair, endpoint.GroupPair, sample.DestinationPair);
        }
    }

    static IEnumerable<Measurement<long>> ObserveHeld()
    {
        foreach (var endpoint in Endpoints.Keys)
            yield return new Measurement<long>(endpoint.Held, SystemPair, endpoint.GroupPair);
    }
}
