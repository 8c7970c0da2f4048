namespace MassTransit.RedisStreams.Diagnostics;

using System;
using System.Collections.Generic;
using System.Globalization;
using StackExchange.Redis;


/// <summary>What one receive endpoint's consumer group looked like on one of its streams when it was last sampled.</summary>
sealed class GroupSample
{
    public GroupSample(string stream, long? lag, long pending, DateTimeOffset? oldestPending)
    {
        Stream = stream;
        DestinationPair = new KeyValuePair<string, object?>(TransportMetrics.DestinationTag, stream);
        Lag = lag;
        Pending = pending;
        OldestPending = oldestPending;
    }

    public string Stream { get; }
    public KeyValuePair<string, object?> DestinationPair { get; }

    /// <summary>Entries not read yet; null when Redis cannot tell (entries were deleted or trimmed past the group's position).</summary>
    public long? Lag { get; }

    public long Pending { get; }

    /// <summary>When the oldest pending entry was appended (its ID's time); null with nothing pending.</summary>
    public DateTimeOffset? OldestPending { get; }

    public TimeSpan OldestPendingAgeAt(DateTimeOffset now) => OldestPending is { } oldest && now > oldest ? now - oldest : TimeSpan.Zero;
}


/// <summary>
/// One receive endpoint as operators see it: what it holds in this process, what its groups looked like when last sampled,
/// and the thresholds past which its health is Degraded.
/// </summary>
sealed class EndpointMonitor
{
    static readonly GroupSample[] NoSamples = [];

    readonly Func<int> _held;
    readonly Func<IEnumerable<RedisKey>> _streams;
    readonly TimeProvider _time;

    public EndpointMonitor(string group, Func<IEnumerable<RedisKey>> streams, Func<int> held, long? lagThreshold, TimeSpan? pendingAgeThreshold,
        TimeProvider time)
    {
        Group = group;
        GroupPair = new KeyValuePair<string, object?>(TransportMetrics.GroupTag, group);
        _streams = streams;
        _held = held;
        _time = time;
        LagThreshold = lagThreshold;
        PendingAgeThreshold = pendingAgeThreshold;
    }

    public string Group { get; }
    public KeyValuePair<string, object?> GroupPair { get; }
    public long? LagThreshold { get; }
    public TimeSpan? PendingAgeThreshold { get; }
    public bool HasThresholds => LagThreshold != null || PendingAgeThreshold != null;

    /// <summary>The streams the endpoint reads now.</summary>
    public IEnumerable<RedisKey> Streams => _streams();

    public int Held => _held();

    /// <summary>Now, by the clock the endpoint's ages are measured with.</summary>
    public DateTimeOffset Now => _time.GetUtcNow();

    public GroupSample[] Samples { get; private set; } = NoSamples;

    /// <summary>When <see cref="Samples" /> were read; null before the first sample.</summary>
    public DateTimeOffset? SampledAt { get; private set; }

    public void Update(GroupSample[] samples, DateTimeOffset at)
    {
        Samples = samples;
        SampledAt = at;
    }

    /// <summary>The lag of the endpoint: the sum over its streams; null when no stream could tell.</summary>
    public long? TotalLag
    {
        get
        {
            long? total = null;
            foreach (var sample in Samples)
            {
                if (sample.Lag is { } lag)
                    total = (total ?? 0) + lag;
            }

            return total;
        }
    }

    public long TotalPending
    {
        get
        {
            long total = 0;
            foreach (var sample in Samples)
                total += sample.Pending;
            return total;
        }
    }

    public TimeSpan OldestPendingAge
    {
        get
        {
            var now = Now;
            var oldest = TimeSpan.Zero;
            foreach (var sample in Samples)
            {
                var age = sample.OldestPendingAgeAt(now);
                if (age > oldest)
                    oldest = age;
            }

            return oldest;
        }
    }

    /// <summary>Why the endpoint is degraded, or null when it is within its thresholds (or was not sampled yet).</summary>
    public string? DescribeDegradation()
    {
        if (SampledAt == null)
            return null;

        string? problem = null;
        if (LagThreshold is { } lagThreshold && TotalLag is { } lag && lag > lagThreshold)
            problem = string.Format(CultureInfo.InvariantCulture, "{0}: lag {1:N0} is over {2:N0}", Group, lag, lagThreshold);

        if (PendingAgeThreshold is { } ageThreshold && OldestPendingAge is var age && age > ageThreshold)
        {
            var text = string.Format(CultureInfo.InvariantCulture, "oldest pending entry is {0:N0} s old, over {1:N0} s", age.TotalSeconds,
                ageThreshold.TotalSeconds);
            problem = problem == null ? Group + ": " + text : problem + "; " + text;
        }

        return problem;
    }
}
