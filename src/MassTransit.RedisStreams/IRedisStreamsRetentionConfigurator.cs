namespace MassTransit;

using System;


/// <summary>
/// How long the bus's streams keep their entries, set with <c>cfg.Retention(r =&gt; ...)</c>. One instance of the bus at a
/// time trims in the background, every <see cref="Interval" />; an entry a consumer group still needs is never removed.
/// </summary>
public interface IRedisStreamsRetentionConfigurator
{
    /// <summary>Event streams (<c>events:&lt;entity&gt;</c>): the log. Default: <see cref="RedisStreamsRetentionPolicy.KeepAll" />.</summary>
    RedisStreamsRetentionPolicy Events { set; }

    /// <summary>
    /// The streams of the <c>Fault&lt;T&gt;</c> events MassTransit publishes when consumers fail. Default: 7 days
    /// (<see cref="RedisStreamsRetentionPolicy.Age" />).
    /// </summary>
    RedisStreamsRetentionPolicy Faults { set; }

    /// <summary>
    /// Queue streams (<c>queue:&lt;name&gt;</c>) that an endpoint reads: a queue is not a log, so by default
    /// (<c>RedisStreamsRetentionPolicy.Entries(0)</c>) what every group has acknowledged is removed. Set a larger number to keep a tail of
    /// handled messages to look at.
    /// </summary>
    RedisStreamsRetentionPolicy Queues { set; }

    /// <summary>
    /// Error and skipped streams, and queue streams no endpoint reads yet. Default: <see cref="RedisStreamsRetentionPolicy.KeepAll" />,
    /// as MassTransit's error queues on other transports.
    /// </summary>
    RedisStreamsRetentionPolicy DeadLetters { set; }

    /// <summary>How often the bus trims. Default 1 minute.</summary>
    TimeSpan Interval { set; }

    /// <summary>The most streams one pass looks at; the next pass goes on from there. Default 100.</summary>
    int StreamsPerPass { set; }

    /// <summary>False turns background trimming off; <see cref="IRedisStreamsAdmin.Trim" /> still trims on demand. Default true.</summary>
    bool Enabled { set; }

    /// <summary>
    /// How long the consumer groups of a temporary endpoint that is gone stay on event streams: once its queue stream has
    /// expired (see <see cref="RedisStreamsTransportOptions.TemporaryStreamExpiry" />) and none of its consumers has read for
    /// this long, its groups and subscriber registrations are removed, so that they no longer keep entries from being trimmed.
    /// Default 5 minutes; at least 1 minute.
    /// </summary>
    TimeSpan TemporaryGroupExpiry { set; }

    /// <summary>
    /// Opt-in: removes the consumer groups (and subscriber registrations) of durable endpoints on event streams once no consumer
    /// of the endpoint has read, there or on its queue, for this long. An endpoint that comes back creates its groups again at
    /// its start position, so it misses what was published meanwhile. Default null: such groups are kept. At least 10 minutes.
    /// </summary>
    TimeSpan? InactiveGroupExpiry { set; }

    /// <summary>The policy for the event stream of <typeparamref name="T" />, instead of <see cref="Events" />.</summary>
    /// <param name="policy">The policy.</param>
    /// <typeparam name="T">The message type.</typeparam>
    void MessageType<T>(RedisStreamsRetentionPolicy policy)
        where T : class;

    /// <summary>The policy for <c>events:&lt;entityName&gt;</c>, instead of <see cref="Events" />.</summary>
    /// <param name="entityName">The entity name, e.g. <c>AuctionEnded</c>.</param>
    /// <param name="policy">The policy.</param>
    void EntityName(string entityName, RedisStreamsRetentionPolicy policy);

    /// <summary>
    /// The policy for the event stream of <typeparamref name="T" />, and whether what it removes is archived, instead of what
    /// <see cref="Archive" /> says for every event stream: false deletes it; true archives it (fault streams included).
    /// </summary>
    /// <param name="policy">The policy.</param>
    /// <param name="archive">Whether to archive what the policy removes; true needs <see cref="Archive" />.</param>
    /// <typeparam name="T">The message type.</typeparam>
    void MessageType<T>(RedisStreamsRetentionPolicy policy, bool archive)
        where T : class;

    /// <summary>
    /// The policy for <c>events:&lt;entityName&gt;</c>, and whether what it removes is archived, instead of what
    /// <see cref="Archive" /> says for every event stream.
    /// </summary>
    /// <param name="entityName">The entity name, e.g. <c>AuctionEnded</c>.</param>
    /// <param name="policy">The policy.</param>
    /// <param name="archive">Whether to archive what the policy removes; true needs <see cref="Archive" />.</param>
    void EntityName(string entityName, RedisStreamsRetentionPolicy policy, bool archive);

    /// <summary>
    /// Archives instead of deleting: what the policies remove from event streams is first written to
    /// <paramref name="archive" />, and removed from Redis only once it is stored there. <see cref="IRedisStreamsEventHistory" />
    /// then reads the archive and the stream as one history. Entries a consumer group still needs stay in Redis, as without an
    /// archive. The package <c>MassTransit.RedisStreams.Archive</c> has Parquet archives in a directory or an S3 bucket
    /// (<c>r.ArchiveToDirectory(path)</c>, <c>r.ArchiveToS3(...)</c>).
    /// </summary>
    /// <param name="archive">Where the entries go.</param>
    /// <param name="faults">True to archive the <c>Fault&lt;T&gt;</c> streams too; by default what their policy removes is deleted.</param>
    void Archive(IRedisStreamsArchive archive, bool faults = false);
}
