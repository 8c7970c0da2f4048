namespace MassTransit;

using System;
using System.Globalization;


/// <summary>
/// How much of a stream to keep. Whatever the policy, an entry that a consumer group has not yet had delivered and
/// acknowledged is never removed: a lagging endpoint keeps what it still needs.
/// </summary>
public sealed class RedisStreamsRetentionPolicy
{
    RedisStreamsRetentionPolicy(long? maxEntries, TimeSpan? maxAge)
    {
        MaxEntries = maxEntries;
        MaxAge = maxAge;
    }

    /// <summary>Keep every entry.</summary>
    public static RedisStreamsRetentionPolicy KeepAll { get; } = new(null, null);

    /// <summary>At most this many entries; older ones go first.</summary>
    public long? MaxEntries { get; }

    /// <summary>At most this old; older entries go.</summary>
    public TimeSpan? MaxAge { get; }

    /// <summary>Keep at most <paramref name="maxEntries" /> entries (0 keeps only what a group still needs).</summary>
    public static RedisStreamsRetentionPolicy Entries(long maxEntries) => Limit(maxEntries, null);

    /// <summary>Keep the entries appended within <paramref name="maxAge" />.</summary>
    public static RedisStreamsRetentionPolicy Age(TimeSpan maxAge) => Limit(null, maxAge);

    /// <summary>Keep at most <paramref name="maxEntries" /> entries, none older than <paramref name="maxAge" />; either may be null.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative limit.</exception>
    public static RedisStreamsRetentionPolicy Limit(long? maxEntries, TimeSpan? maxAge)
    {
        if (maxEntries is < 0)
            throw new ArgumentOutOfRangeException(nameof(maxEntries), maxEntries, "A retention policy keeps at least 0 entries.");
        if (maxAge < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(maxAge), maxAge, "A retention policy's age must not be negative.");

        return maxEntries == null && maxAge == null ? KeepAll : new RedisStreamsRetentionPolicy(maxEntries, maxAge);
    }

    /// <inheritdoc />
    public override string ToString()
    {
        if (MaxEntries == null && MaxAge == null)
            return "keep all";

        var entries = MaxEntries?.ToString("N0", CultureInfo.InvariantCulture) + " entries";
        var age = MaxAge?.ToString("c", CultureInfo.InvariantCulture);

        return "keep at most " + (MaxEntries != null && MaxAge != null ? entries + " and " + age : MaxEntries != null ? entries : age);
    }
}
