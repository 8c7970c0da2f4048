namespace MassTransit;

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RedisStreams.Redis;
using StackExchange.Redis;


/// <summary>
/// <see cref="IRedisStreamsAdmin" /> over a connection of the caller's and a key prefix.
/// </summary>
public sealed class RedisStreamsAdmin :
    IRedisStreamsAdmin
{
    const int BatchSize = 100;

    readonly RedisStreamsClient _client;

    /// <summary>
    /// Works on the streams under <paramref name="keyPrefix" /> through <paramref name="multiplexer" />, which stays the
    /// caller's: it is never closed or disposed here.
    /// </summary>
    /// <param name="multiplexer">An open connection, owned by the caller.</param>
    /// <param name="keyPrefix">The bus's <see cref="RedisStreamsTransportOptions.KeyPrefix" />, if it has one.</param>
    public RedisStreamsAdmin(IConnectionMultiplexer multiplexer, string? keyPrefix = null)
        : this(new RedisStreamsClient(new RedisConnection(multiplexer, observe: false), new StreamKeys(keyPrefix)))
    {
    }

    internal RedisStreamsAdmin(RedisStreamsClient client)
    {
        _client = client;
    }

    /// <inheritdoc />
    public async Task<long> Requeue(string queueName, RedisStreamsRequeueSource source = RedisStreamsRequeueSource.Error, int? limit = null,
        CancellationToken cancellationToken = default)
    {
        var problem = StreamKeys.DescribeInvalidName(queueName);
        if (problem != null)
            throw new ArgumentException($"The queue name '{queueName}' {problem}", nameof(queueName));
        if (limit is < 0)
            throw new ArgumentOutOfRangeException(nameof(limit), limit, "The limit must not be negative.");

        var queue = _client.Keys.Queue(queueName);
        var from = _client.Keys.Queue(queueName + (source == RedisStreamsRequeueSource.Error ? "_error" : "_skipped"));

        long moved = 0;
        while (limit is null || moved < limit)
        {
            cancellationToken.ThrowIfCancellationRequested();

            var count = (int)Math.Min(BatchSize, (limit ?? long.MaxValue) - moved);
            var entries = await _client.Range(from, "-", count).ConfigureAwait(false);
            if (entries.Length == 0)
                break;

            foreach (var entry in entries)
            {
                cancellationToken.ThrowIfCancellationRequested();

                await _client.Append(queue, WithoutFailureHeaders(entry), onlyIfStreamExists: false).ConfigureAwait(false);
                await _client.Delete(from, [entry.Id]).ConfigureAwait(false);
                moved++;
            }
        }

        return moved;
    }

    static RedisValue[] WithoutFailureHeaders(StreamEntry entry)
    {
        var fields = new List<NameValueEntry>(entry.Values.Length);
        foreach (var field in entry.Values)
        {
            // Back as it was sent: without what the move recorded (why, where from, by which host).
            var name = (string?)field.Name ?? "";
            if (name == MessageHeaders.Reason || name.StartsWith("MT-Fault-", StringComparison.Ordinal)
                || name.StartsWith("MT-Host-", StringComparison.Ordinal) || name.StartsWith("MT-Redis-Source-", StringComparison.Ordinal))
                continue;

            fields.Add(field);
        }

        return RedisStreamsClient.CreateAppendArguments(fields);
    }
}
