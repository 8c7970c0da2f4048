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
}


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
}
