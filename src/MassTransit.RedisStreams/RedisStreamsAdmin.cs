namespace MassTransit;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MassTransit.Topology;
using RedisStreams.Configuration;
using RedisStreams.Operations;
using RedisStreams.Redis;
using RedisStreams.Retention;
using RedisStreams.Transport;
using StackExchange.Redis;


/// <summary>
/// <see cref="IRedisStreamsAdmin" /> over a connection of the caller's and a key prefix.
/// </summary>
public sealed class RedisStreamsAdmin :
    IRedisStreamsAdmin
{
    readonly RedisGateway _redis;
    readonly StreamTrimmer _trimmer;

    /// <summary>
    /// Works on the streams under <paramref name="keyPrefix" /> through <paramref name="multiplexer" />, which stays the
    /// caller's: it is never closed or disposed here.
    /// </summary>
    /// <param name="multiplexer">An open connection, owned by the caller.</param>
    /// <param name="keyPrefix">The bus's <see cref="RedisStreamsTransportOptions.KeyPrefix" />, if it has one.</param>
    /// <param name="errorQueueNameFormatter">
    /// The bus's error queue name formatter (<c>cfg.SendTopology.ErrorQueueNameFormatter</c>), if it set one; names the
    /// <c>_error</c> streams.
    /// </param>
    /// <param name="deadLetterQueueNameFormatter">
    /// The bus's dead-letter queue name formatter (<c>cfg.SendTopology.DeadLetterQueueNameFormatter</c>), if it set one; names
    /// the <c>_skipped</c> streams.
    /// </param>
    /// <param name="retention">
    /// The retention policies <see cref="Trim" /> applies, as <c>cfg.Retention(...)</c> sets them on the bus; the defaults when
    /// null.
    /// </param>
    public RedisStreamsAdmin(IConnectionMultiplexer multiplexer, string? keyPrefix = null, IErrorQueueNameFormatter? errorQueueNameFormatter = null,
        IDeadLetterQueueNameFormatter? deadLetterQueueNameFormatter = null, Action<IRedisStreamsRetentionConfigurator>? retention = null)
        : this(CreateGateway(multiplexer, keyPrefix, errorQueueNameFormatter, deadLetterQueueNameFormatter), retention)
    {
    }

    RedisStreamsAdmin(RedisGateway redis, Action<IRedisStreamsRetentionConfigurator>? retention)
    {
        _redis = redis;

        var settings = new RetentionSettings();
        retention?.Invoke(settings);
        settings.Apply(new MessageTopology(RedisStreamsTopologyConfiguration.EntityNameFormatter));

        _trimmer = new StreamTrimmer(redis, settings);
    }

    internal RedisStreamsAdmin(RedisGateway redis, StreamTrimmer trimmer)
    {
        _redis = redis;
        _trimmer = trimmer;
    }

    static RedisGateway CreateGateway(IConnectionMultiplexer multiplexer, string? keyPrefix, IErrorQueueNameFormatter? errorQueueNameFormatter,
        IDeadLetterQueueNameFormatter? deadLetterQueueNameFormatter)
    {
        return new RedisGateway(new RedisConnection(multiplexer, observe: false),
            new StreamKeys(keyPrefix, errorQueueNameFormatter, deadLetterQueueNameFormatter));
    }

    /// <inheritdoc />
    public Task<RedisStreamsTrimReport> Trim(CancellationToken cancellationToken = default)
    {
        return _trimmer.TrimAll(cancellationToken);
    }

    /// <summary>What <see cref="Trim" /> would do now, changing nothing: for the command line's dry run.</summary>
    internal Task<TrimPlan> PlanTrim(CancellationToken cancellationToken = default)
    {
        return _trimmer.PlanAll(cancellationToken);
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

        if (limit == 0)
            return 0;

        var keys = _redis.Keys;
        var operations = new EntryOperations(_redis);
        var from = operations.Resolver.Queue(source == RedisStreamsRequeueSource.Error ? keys.ErrorQueueName(queueName) : keys.SkippedQueueName(queueName));
        var selection = new EntrySelection { Limit = limit };

        var result = await operations.Move(from, selection, operations.Resolver.Queue(queueName), cancellationToken: cancellationToken).ConfigureAwait(false);

        return result.Moved.Count;
    }
}
