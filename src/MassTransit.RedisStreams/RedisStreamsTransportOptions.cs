namespace MassTransit;

using System;
using System.Collections.Generic;
using System.IO;
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
    /// Where Redis is: a StackExchange.Redis configuration string, e.g. <c>localhost:6379</c> or
    /// <c>redis1:6379,password=secret,ssl=true</c>, or a URI, <c>redis://[user[:password]@]host[:port][/database]</c> or
    /// <c>rediss://...</c> for TLS, with StackExchange.Redis options as its query (<c>?abortConnect=false</c>). Default
    /// <c>localhost:6379</c>. Its password is never logged.
    /// </summary>
    /// <seealso href="https://stackexchange.github.io/StackExchange.Redis/Configuration" />
    public string Configuration { get; set; } = "localhost:6379";

    /// <summary>
    /// The ACL user to connect as, when it is not in <see cref="Configuration" />; set, it takes precedence over the one there.
    /// Default none (Redis's <c>default</c> user).
    /// </summary>
    public string? User { get; set; }

    /// <summary>
    /// The password, kept apart from <see cref="Configuration" /> so that it can come from a secret store or an environment
    /// variable (<c>RedisStreams__Password</c>) while the rest stays in appsettings.json; set, it takes precedence over one in
    /// the string. Never logged. Default none.
    /// </summary>
    public string? Password { get; set; }

    /// <summary>
    /// Put in front of every key, e.g. <c>shop</c> gives <c>shop:events:AuctionEnded</c>, so that several applications or
    /// tenants share one Redis without seeing each other's streams. The prefix also appears in endpoint addresses, like a
    /// RabbitMQ virtual host. Default none.
    /// </summary>
    public string? KeyPrefix { get; set; }

    /// <summary>
    /// For TLS with a private certificate authority: the path of its certificate (PEM), against which the server's
    /// certificate is verified instead of the machine's trust store. Setting it turns TLS on. Default none.
    /// </summary>
    public string? TlsCaCertificate { get; set; }

    /// <summary>
    /// For mutual TLS: the path of the client certificate this bus presents, PEM (with <see cref="TlsClientKey" />) or
    /// PKCS#12 (<c>.pfx</c>/<c>.p12</c>, key inside, no password). Setting it turns TLS on. Default none.
    /// </summary>
    public string? TlsClientCertificate { get; set; }

    /// <summary>The path of the PEM private key of <see cref="TlsClientCertificate" />. Default none.</summary>
    public string? TlsClientKey { get; set; }

    /// <summary>
    /// The name under which this instance reads from consumer groups. Each running instance leases its name in Redis
    /// (<c>{consumers}:leases</c>), so two live instances never share one: the first takes the name itself, later ones
    /// <c>{name}-1</c>, <c>{name}-2</c>, .... An instance that restarts after its old lease ran out gets the same name back and
    /// takes up its own unfinished entries at once. Set it to something stable such as a pod name. Default: the machine name.
    /// </summary>
    public string? ConsumerName { get; set; }

    /// <summary>
    /// How long an entry read by an instance may go unacknowledged and untouched before another instance claims it: the time
    /// after which the work of a crashed instance is taken over. Entries still being handled are kept alive, however long
    /// their handler runs, so this does not limit handler time. Default 30 seconds; an endpoint can set its own.
    /// </summary>
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many times an entry is delivered without being acknowledged — each crash or lost connection in its handler counts —
    /// before it is moved to the endpoint's <c>_error</c> stream instead of being delivered again. Default 10; an endpoint can set
    /// its own.
    /// </summary>
    public int MaxDeliveryCount { get; set; } = 10;

    /// <summary>
    /// The longest a send or publish keeps trying while Redis cannot be reached (or is loading its data after a restart); after
    /// it the call fails with an exception, so no message is ever dropped without the caller knowing. Default 30 seconds.
    /// </summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many replicas must have an appended entry before a send or publish completes (Redis <c>WAIT</c>, once per batch of
    /// appends). Redis replicates asynchronously, so without it a failover can lose entries whose send already completed;
    /// with it, a send completes only once that many replicas have the entry, and fails with an exception when they do not
    /// within <see cref="WaitForReplicasTimeout" /> (the entry may then still be on the primary: delivery stays at least
    /// once). Delayed messages are held without it. Default 0, don't wait.
    /// </summary>
    public int WaitForReplicas { get; set; }

    /// <summary>How long a send waits for <see cref="WaitForReplicas" /> replicas. Default 1 second.</summary>
    public TimeSpan WaitForReplicasTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a stream remembers the messages sent and published to it, so that the same message sent again — a send the
    /// transport retried after a timeout or a failover hid whether the first attempt was written, or an outbox delivering a
    /// message again — is not appended twice. A message is the same when its MessageId, body, message types, redelivery count and
    /// Quartz fire time are: a redelivery, or the next fire of a recurring schedule, is a new message. The check is part of the append,
    /// atomic with it, in the stream's hash slot. A message is remembered for one to two windows, at about 85 bytes of Redis
    /// memory. Default 1 minute; <see cref="TimeSpan.Zero" /> turns it off.
    /// </summary>
    public TimeSpan DuplicateDetectionWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The largest entry, in bytes (body and headers), a send or publish accepts; a larger one fails at once with an exception,
    /// and a larger entry found in a stream is moved to <c>_error</c> unread. Default 4 MiB.
    /// </summary>
    public int MaxMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// How long a consumer of a group must have been idle, with nothing pending, before it is deleted from the group. A consumer
    /// with pending entries is never deleted. Default 1 hour.
    /// </summary>
    public TimeSpan DeadConsumerTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How often an idle endpoint checks its streams when no wake-up arrives. Appends made through this transport wake an
    /// idle endpoint at once; the poll only bounds how late an endpoint sees entries added by other writers (redis-cli, other
    /// languages) or after a lost wake-up. Default 2 seconds.
    /// </summary>
    public TimeSpan IdlePollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The most connections of their own the bus opens for blocking reads: one per receive endpoint, up to this many. An idle
    /// endpoint with one waits in <c>XREADGROUP ... BLOCK</c>, which Redis answers the moment an entry is appended; an endpoint
    /// without one waits for a wake-up message and then reads, one more round trip. A blocked read lasts at most
    /// <see cref="IdlePollInterval" />. On a Redis Cluster only endpoints whose streams share a hash slot read blocking. 0 turns
    /// blocking reads off. Default 32.
    /// </summary>
    public int MaxReaderConnections { get; set; } = 32;

    /// <summary>
    /// How long the stream of a temporary endpoint (such as the bus's response stream) lives after its process stops
    /// renewing it; a crashed process's temporary streams expire by themselves after this. Default 5 minutes.
    /// </summary>
    public TimeSpan TemporaryStreamExpiry { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// What happens to a message whose time to live (<c>SendContext.TimeToLive</c>) has passed when it is read: false (the
    /// default, as on RabbitMQ) drops it, true moves it to the endpoint's <c>_skipped</c> stream with <c>MT-Reason: expired</c>.
    /// Either way it is not delivered, and it is counted. An endpoint can set its own.
    /// </summary>
    public bool MoveExpiredToSkipped { get; set; }

    /// <summary>
    /// How often the bus reads where its endpoints' consumer groups stand — lag, pending entries, the oldest pending entry —
    /// for the <c>messaging.redis_streams.consumer.*</c> gauges and for health. It reads only while someone listens to those
    /// gauges or a degraded threshold is set, with two commands per stream an endpoint reads, pipelined. Default 15 seconds.
    /// </summary>
    public TimeSpan MetricsSampleInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The lag (entries not read yet, over all the streams an endpoint reads) past which an endpoint's health is Degraded in
    /// the <c>masstransit-redis-streams</c> health check. Null, the default, sets no threshold; an endpoint can set its own.
    /// </summary>
    public long? DegradedLagThreshold { get; set; }

    /// <summary>
    /// How old the oldest pending entry of an endpoint (read and not acknowledged, by any instance) may be before the endpoint's
    /// health is Degraded in the <c>masstransit-redis-streams</c> health check. Null, the default, sets no threshold; an
    /// endpoint can set its own.
    /// </summary>
    public TimeSpan? DegradedPendingAgeThreshold { get; set; }

    internal RedisStreamsTransportOptions Copy() => (RedisStreamsTransportOptions)MemberwiseClone();

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
                var parsed = RedisConfiguration.Parse(Configuration);
                if (parsed.EndPoints.Count == 0)
                    problem = $"'{RedisConfiguration.Redact(Configuration)}' names no server; it needs at least one host:port, e.g. 'localhost:6379'.";
            }
            catch (ArgumentException exception)
            {
                problem = exception.Message;
            }

            if (problem != null)
                yield return $"RedisStreams:Configuration {problem}";
        }

        foreach (var (name, path) in new[] { ("TlsCaCertificate", TlsCaCertificate), ("TlsClientCertificate", TlsClientCertificate), ("TlsClientKey", TlsClientKey) })
        {
            if (!string.IsNullOrEmpty(path) && !File.Exists(path))
                yield return $"RedisStreams:{name} '{path}' does not exist.";
        }

        if (!string.IsNullOrEmpty(TlsClientKey) && string.IsNullOrEmpty(TlsClientCertificate))
            yield return "RedisStreams:TlsClientKey is set without RedisStreams:TlsClientCertificate; set the certificate it belongs to.";

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

        if (MaxReaderConnections < 0 || MaxReaderConnections > 1000)
            yield return $"RedisStreams:MaxReaderConnections must be between 0 (off) and 1000 (was {MaxReaderConnections}).";

        if (TemporaryStreamExpiry < TimeSpan.FromSeconds(5))
            yield return $"RedisStreams:TemporaryStreamExpiry must be at least 5 seconds (was {TemporaryStreamExpiry}).";

        if (ClaimTimeout < TimeSpan.FromSeconds(1))
            yield return $"RedisStreams:ClaimTimeout must be at least 1 second (was {ClaimTimeout}).";

        if (WaitForReplicas < 0)
            yield return $"RedisStreams:WaitForReplicas must not be negative (was {WaitForReplicas}).";

        if (WaitForReplicas > 0 && (WaitForReplicasTimeout < TimeSpan.FromMilliseconds(1) || WaitForReplicasTimeout > SendTimeout))
        {
            yield return $"RedisStreams:WaitForReplicasTimeout must be between 1 millisecond and the SendTimeout of {SendTimeout} "
                + $"(was {WaitForReplicasTimeout}).";
        }

        if (DuplicateDetectionWindow != TimeSpan.Zero && (DuplicateDetectionWindow < TimeSpan.FromSeconds(1) || DuplicateDetectionWindow > TimeSpan.FromDays(1)))
            yield return $"RedisStreams:DuplicateDetectionWindow must be zero (off) or between 1 second and 1 day (was {DuplicateDetectionWindow}).";

        if (MetricsSampleInterval < TimeSpan.FromSeconds(1) || MetricsSampleInterval > TimeSpan.FromHours(1))
            yield return $"RedisStreams:MetricsSampleInterval must be between 1 second and 1 hour (was {MetricsSampleInterval}).";

        if (DegradedLagThreshold < 0)
            yield return $"RedisStreams:DegradedLagThreshold must not be negative (was {DegradedLagThreshold}).";

        if (DegradedPendingAgeThreshold <= TimeSpan.Zero)
            yield return $"RedisStreams:DegradedPendingAgeThreshold must be positive (was {DegradedPendingAgeThreshold}).";

        if (MaxDeliveryCount < 1)
            yield return $"RedisStreams:MaxDeliveryCount must be at least 1 (was {MaxDeliveryCount}).";

        if (SendTimeout < TimeSpan.Zero)
            yield return $"RedisStreams:SendTimeout must not be negative (was {SendTimeout}).";

        if (MaxMessageSize < 1024 || MaxMessageSize > 512 * 1024 * 1024)
            yield return $"RedisStreams:MaxMessageSize must be between 1024 bytes and 512 MiB, the largest value Redis stores (was {MaxMessageSize}).";

        if (DeadConsumerTimeout < ClaimTimeout)
            yield return $"RedisStreams:DeadConsumerTimeout must be at least ClaimTimeout ({ClaimTimeout}) (was {DeadConsumerTimeout}).";
    }
}
