namespace MassTransit;

using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// Where retention puts the entries it removes from event streams, instead of deleting them, set with
/// <see cref="IRedisStreamsRetentionConfigurator.Archive" />; and where <see cref="IRedisStreamsEventHistory" /> reads them
/// back. An archive holds, per stream, segments: runs of consecutive entries, each written once and never changed. The
/// package <c>MassTransit.RedisStreams.Archive</c> has one that writes Parquet files to a directory or an S3 bucket.
/// </summary>
/// <remarks>
/// The transport removes an entry from Redis only after <see cref="Write" /> has returned its segment, so a segment must be
/// durable when <see cref="Write" /> returns (written and flushed to disk, or stored by the object store), and it must appear
/// whole or not at all in <see cref="GetSegments" />, even when the process dies while writing it.
/// </remarks>
public interface IRedisStreamsArchive
{
    /// <summary>Where the archive is, for people: a directory, or an <c>s3://bucket/prefix</c>.</summary>
    string Location { get; }

    /// <summary>The most entries the transport writes to one segment; a pass with more writes several.</summary>
    int SegmentEntries { get; }

    /// <summary>
    /// Writes <paramref name="entries" />, oldest first, as one segment of <paramref name="streamKey" />, and returns it once it
    /// is durable; null when there were no entries. The entries are read as they are written: they need not fit in memory.
    /// </summary>
    /// <param name="streamKey">The stream the entries come from, e.g. <c>events:AuctionEnded</c>.</param>
    /// <param name="entries">The entries, in entry ID order.</param>
    /// <param name="cancellationToken">Cancels the write; a segment cancelled is not stored.</param>
    Task<RedisStreamsArchiveSegment?> Write(string streamKey, IAsyncEnumerable<StreamEntry> entries, CancellationToken cancellationToken = default);

    /// <summary>The segments of <paramref name="streamKey" />, ordered by their first entry ID.</summary>
    /// <param name="streamKey">The stream, e.g. <c>events:AuctionEnded</c>.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    Task<IReadOnlyList<RedisStreamsArchiveSegment>> GetSegments(string streamKey, CancellationToken cancellationToken = default);

    /// <summary>The entries of one segment, oldest first or newest first, a part at a time.</summary>
    /// <param name="segment">A segment from <see cref="GetSegments" /> or <see cref="Write" />.</param>
    /// <param name="newestFirst">True to read the newest entry first.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    IAsyncEnumerable<StreamEntry> Read(RedisStreamsArchiveSegment segment, bool newestFirst = false, CancellationToken cancellationToken = default);
}
