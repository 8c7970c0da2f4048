namespace MassTransit.RedisStreams.Benchmarks.Compare;

using System;
using System.Collections.Generic;
using Brokers;
using Transports;


/// <summary>The servers, the transports and the options every workload runs with.</summary>
public sealed class BenchEnvironment(ComparisonOptions options, RedisBroker redis, RabbitBroker? rabbit, int defaultPrefetch)
{
    public ComparisonOptions Options => options;

    public RedisBroker Redis => redis;

    public RabbitBroker? Rabbit => rabbit;

    /// <summary>The PrefetchCount this transport's endpoints get by default; the raw loop reads as many per XREADGROUP.</summary>
    public int DefaultPrefetch => defaultPrefetch;

    public RawRedisLoop Raw => new(redis, defaultPrefetch);

    /// <summary>How long any single wait of a run may take before the run counts as failed.</summary>
    public TimeSpan Timeout { get; } = TimeSpan.FromMinutes(options.Quick ? 1 : 5);

    /// <summary>The MassTransit transports that are there; RabbitMQ only when a server is.</summary>
    public IReadOnlyDictionary<string, BusTransport> BusTransports { get; } = CreateTransports(options, redis, rabbit);

    static Dictionary<string, BusTransport> CreateTransports(ComparisonOptions options, RedisBroker redis, RabbitBroker? rabbit)
    {
        var transports = new Dictionary<string, BusTransport>
        {
            [TransportNames.RedisStreams] = new RedisStreamsTransport(redis.Connection, options.RedisKeyPrefix),
            [TransportNames.InMemory] = new InMemoryTransport()
        };
        if (rabbit != null)
            transports[TransportNames.RabbitMq] = new RabbitMqTransport(rabbit.Address, rabbit);

        return transports;
    }
}
