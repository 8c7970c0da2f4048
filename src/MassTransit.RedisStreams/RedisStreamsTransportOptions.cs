namespace MassTransit;

using System;
using System.Collections.Generic;
using RedisStreams.Redis;
using StackExchange.Redis;


/// <summary>
/// Settings of the Redis Streams transport, bound the usual way:
/// <c>services.AddOptions&lt;RedisStreamsTransportOptions&gt;().BindConfiguration("RedisStreams")</c>. They are read when the
/// bus is created; anything set in the <c>UsingRedisStreams</c> callback overrides them.
/// </summary>
public class RedisStreamsTransportOptions
{
    /// <summary>
    /// A StackExchange.Redis configuration string, e.g. <c>localhost:6379</c> or
    /// <c>redis1:6379,password=secret,ssl=true</c>. Default <c>localhost:6379</c>.
    /// </summary>
    /// <seealso href="https://stackexchange.github.io/StackExchange.Redis/Configuration" />
    public string Configuration { get; set; } = "localhost:6379";

    /// <summary>
    /// Put in front of every key, e.g. <c>shop</c> gives <c>shop:events:AuctionEnded</c>, so that several applications or
    /// tenants share one Redis without seeing each other's streams. The prefix also appears in endpoint addresses, like a
    /// RabbitMQ virtual host. Default none.
    /// </summary>
    public string? KeyPrefix { get; set; }

    /// <summary>
    /// The name under which this process reads from consumer groups. It must differ between running instances; set it to
    /// something stable such as a pod name so that a restarted instance takes up its own unfinished entries at once.
    /// Default: the machine name and the process ID.
    /// </summary>
    public string? ConsumerName { get; set; }

    /// <summary>
    /// How often an idle endpoint checks its streams when no wake-up arrives. Appends made through this transport wake an
    /// idle endpoint at once; the poll only bounds how late an endpoint sees entries added by other writers (redis-cli, other
    /// languages) or after a lost wake-up. Default 2 seconds.
    /// </summary>
    public TimeSpan IdlePollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long the stream of a temporary endpoint (such as the bus's response stream) lives after its process stops
    /// renewing it; a crashed process's temporary streams expire by themselves after this. Default 5 minutes.
    /// </summary>
    public TimeSpan TemporaryStreamExpiry { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Checks every value and returns one message per value that cannot be used; empty when all are valid.
    /// </summary>
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Configuration))
            yield return "RedisStreams:Configuration is empty; set a StackExchange.Redis configuration string such as 'localhost:6379'.";
        else
        {
            string? problem = null;
            try
            {
                var parsed = ConfigurationOptions.Parse(Configuration);
                if (parsed.EndPoints.Count == 0)
                    problem = "names no server; it needs at least one host:port, e.g. 'localhost:6379'.";
            }
            catch (ArgumentException exception)
            {
                problem = $"cannot be parsed: {exception.Message}";
            }

            if (problem != null)
                yield return $"RedisStreams:Configuration '{Configuration}' {problem}";
        }

        if (!string.IsNullOrEmpty(KeyPrefix))
        {
            var problem = StreamKeys.DescribeInvalidName(KeyPrefix.TrimEnd(':'));
            if (problem != null)
                yield return $"RedisStreams:KeyPrefix '{KeyPrefix}' {problem}";
        }

        if (ConsumerName != null)
        {
            var problem = StreamKeys.DescribeInvalidName(ConsumerName);
            if (problem != null)
                yield return $"RedisStreams:ConsumerName '{ConsumerName}' {problem}";
        }

        if (IdlePollInterval < TimeSpan.FromMilliseconds(10) || IdlePollInterval > TimeSpan.FromMinutes(5))
            yield return $"RedisStreams:IdlePollInterval must be between 10 milliseconds and 5 minutes (was {IdlePollInterval}).";

        if (TemporaryStreamExpiry < TimeSpan.FromSeconds(5))
            yield return $"RedisStreams:TemporaryStreamExpiry must be at least 5 seconds (was {TemporaryStreamExpiry}).";
    }
}
