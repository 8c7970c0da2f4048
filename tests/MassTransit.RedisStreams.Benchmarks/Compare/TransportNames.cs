namespace MassTransit.RedisStreams.Benchmarks.Compare;

/// <summary>The columns of the comparison.</summary>
public static class TransportNames
{
    public const string RedisStreams = "redis-streams";
    public const string InMemory = "in-memory";
    public const string RabbitMq = "rabbitmq";
    public const string RawRedis = "raw-redis";

    public static readonly string[] All = [RedisStreams, InMemory, RabbitMq, RawRedis];
}
