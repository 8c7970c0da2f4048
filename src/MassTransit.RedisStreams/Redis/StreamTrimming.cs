namespace MassTransit.RedisStreams.Redis;

using System;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>Trims streams by a retention policy, never removing what a consumer group still needs.</summary>
interface IStreamTrimming
{
    /// <summary>Trims a stream to a retention policy (<c>trim.lua</c>).</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="maxEntries">The most entries to keep, or null.</param>
    /// <param name="maxAge">The oldest entries to keep, or null.</param>
    /// <param name="countLimit">How many entries at most the script reads to decide how to trim by length.</param>
    /// <returns>
    /// The entries removed; the group that kept the policy from removing more, or null; and whether the stream was left
    /// untrimmed by length because deciding would have meant reading more than <paramref name="countLimit" /> entries.
    /// </returns>
    /// <seealso href="https://redis.io/commands/xtrim" />
    Task<(long Removed, string? KeptFor, bool Uncounted)> Trim(RedisKey stream, long? maxEntries, TimeSpan? maxAge, int countLimit);

    /// <summary>
    /// What <see cref="Trim" /> would remove now, worked out by the same script without trimming (<c>trim.lua</c> with
    /// <c>plan</c>).
    /// </summary>
    /// <param name="stream">The stream.</param>
    /// <param name="maxEntries">The most entries to keep, or null.</param>
    /// <param name="maxAge">The oldest entries to keep, or null.</param>
    /// <param name="countLimit">How many entries at most the script reads from each end to count what it would remove.</param>
    /// <seealso href="https://redis.io/commands/xrange" />
    Task<StreamTrimPlan> Plan(RedisKey stream, long? maxEntries, TimeSpan? maxAge, int countLimit);
}


/// <summary>What trimming one stream would do.</summary>
/// <param name="Removed">The entries it would remove; with <paramref name="AtLeast" />, a lower bound.</param>
/// <param name="AtLeast">True when there are more than could be counted within the count limit.</param>
/// <param name="KeptFor">The group that keeps the policy from removing more, or null.</param>
/// <param name="Uncounted">True when whether the length limit removes more is not known within the count limit.</param>
/// <param name="MinId">The ID every entry below which would go, when that is how it would trim.</param>
/// <param name="MaxLength">The length it would trim to, when that is how it would trim.</param>
sealed record StreamTrimPlan(long Removed, bool AtLeast, string? KeptFor, bool Uncounted, string? MinId, long? MaxLength);


/// <inheritdoc />
sealed class StreamTrimming :
    IStreamTrimming
{
    readonly RedisConnection _connection;

    public StreamTrimming(RedisConnection connection)
    {
        _connection = connection;
    }

    public async Task<(long Removed, string? KeptFor, bool Uncounted)> Trim(RedisKey stream, long? maxEntries, TimeSpan? maxAge, int countLimit)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        var result = (RedisResult[])(await RedisScript.Trim.Evaluate(database, [stream],
            [maxEntries ?? -1, maxAge is { } age ? (long)age.TotalMilliseconds : -1, countLimit]).ConfigureAwait(false))!;

        var keptFor = (string?)result[1];
        return ((long)result[0], string.IsNullOrEmpty(keptFor) ? null : keptFor, (string?)result[2] == "uncounted");
    }

    public async Task<StreamTrimPlan> Plan(RedisKey stream, long? maxEntries, TimeSpan? maxAge, int countLimit)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        var result = (RedisResult[])(await RedisScript.Trim.Evaluate(database, [stream],
            [maxEntries ?? -1, maxAge is { } age ? (long)age.TotalMilliseconds : -1, countLimit, "plan"]).ConfigureAwait(false))!;

        var keptFor = (string?)result[1];
        var target = ((string?)result[3] ?? "").Split(' ', 2);
        return new StreamTrimPlan((long)result[0], (string?)result[4] == "at-least", string.IsNullOrEmpty(keptFor) ? null : keptFor,
            (string?)result[2] == "uncounted", target[0] == "MINID" ? target[1] : null,
            target[0] == "MAXLEN" ? long.Parse(target[1], System.Globalization.CultureInfo.InvariantCulture) : null);
    }
}
