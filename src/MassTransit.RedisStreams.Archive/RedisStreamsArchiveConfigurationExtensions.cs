namespace MassTransit;

using System;
using Amazon.S3;


/// <summary>Archives what retention removes from event streams to Parquet files: <c>cfg.Retention(r =&gt; r.ArchiveToDirectory(path))</c>.</summary>
public static class RedisStreamsArchiveConfigurationExtensions
{
    /// <summary>
    /// Archives what the retention policies remove from event streams to Parquet files under <paramref name="path" />, before it
    /// is removed; the history reads them with the streams. Every instance must see the same directory (a shared volume); on
    /// several machines, <see cref="ArchiveToS3" /> is the choice.
    /// </summary>
    /// <param name="configurator">The retention configurator.</param>
    /// <param name="path">The directory.</param>
    /// <param name="configure">Sets the archive's segment and row group sizes.</param>
    /// <param name="faults">True to archive the <c>Fault&lt;T&gt;</c> streams too.</param>
    /// <returns>The archive, to read from elsewhere (<see cref="RedisStreamsEventHistory.WithArchive" />).</returns>
    public static RedisStreamsParquetArchive ArchiveToDirectory(this IRedisStreamsRetentionConfigurator configurator, string path,
        Action<RedisStreamsParquetArchive>? configure = null, bool faults = false)
    {
        ArgumentNullException.ThrowIfNull(configurator);

        var archive = RedisStreamsParquetArchive.Directory(path);
        configure?.Invoke(archive);
        configurator.Archive(archive, faults);
        return archive;
    }

    /// <summary>
    /// Archives what the retention policies remove from event streams to Parquet objects in an S3 bucket (or an S3-compatible
    /// store), before it is removed; the history reads them with the streams.
    /// </summary>
    /// <param name="configurator">The retention configurator.</param>
    /// <param name="client">The S3 client, owned by the caller.</param>
    /// <param name="bucket">The bucket; it must exist.</param>
    /// <param name="prefix">A key prefix, or null.</param>
    /// <param name="configure">Sets the archive's segment and row group sizes.</param>
    /// <param name="faults">True to archive the <c>Fault&lt;T&gt;</c> streams too.</param>
    /// <returns>The archive, to read from elsewhere (<see cref="RedisStreamsEventHistory.WithArchive" />).</returns>
    public static RedisStreamsParquetArchive ArchiveToS3(this IRedisStreamsRetentionConfigurator configurator, IAmazonS3 client, string bucket,
        string? prefix = null, Action<RedisStreamsParquetArchive>? configure = null, bool faults = false)
    {
        ArgumentNullException.ThrowIfNull(configurator);

        var archive = RedisStreamsParquetArchive.S3(client, bucket, prefix);
        configure?.Invoke(archive);
        configurator.Archive(archive, faults);
        return archive;
    }
}
