namespace MassTransit;

using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Amazon.S3;
using Parquet;
using Parquet.Serialization;
using RedisStreams.Archive;
using RedisStreams.Redis;
using RedisStreams.Retention;
using StackExchange.Redis;


/// <summary>
/// An archive of Parquet files, Zstandard-compressed, one file per segment, in a directory or an S3 bucket. Each row is one
/// entry: <c>id</c> (string), <c>ms</c> and <c>seq</c> (int64, the two parts of the ID) and <c>fields</c> (a map from the field
/// name to its bytes, as Redis holds them). A file is named <c>&lt;stream&gt;/&lt;first ID&gt;_&lt;last ID&gt;_&lt;count&gt;.parquet</c>,
/// the stream key escaped as in a URI. Any Parquet reader reads them (DuckDB, Spark, pandas, Athena).
/// </summary>
public sealed class RedisStreamsParquetArchive :
    IRedisStreamsArchive
{
    const string StreamMetadata = "masstransit.redisstreams.stream";
    const string FormatMetadata = "masstransit.redisstreams.format";

    readonly IArchiveStore _store;
    int _rowGroupSize = 10_000;
    int _segmentEntries = 100_000;

    RedisStreamsParquetArchive(IArchiveStore store)
    {
        _store = store;
    }

    /// <summary>
    /// Segments as files under <paramref name="path" />, a folder per stream. Every instance of the bus, and every reader of the
    /// history, must see the same directory: on several machines, a shared volume, or use <see cref="S3" />.
    /// </summary>
    /// <param name="path">The directory; it is created when missing.</param>
    public static RedisStreamsParquetArchive Directory(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return new RedisStreamsParquetArchive(new DirectoryArchiveStore(path));
    }

    /// <summary>Segments as objects in an S3 bucket, or an S3-compatible store, under <paramref name="prefix" />.</summary>
    /// <param name="client">The client, owned by the caller.</param>
    /// <param name="bucket">The bucket; it must exist.</param>
    /// <param name="prefix">A key prefix, e.g. <c>shop/</c>, or null.</param>
    public static RedisStreamsParquetArchive S3(IAmazonS3 client, string bucket, string? prefix = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(bucket);
        return new RedisStreamsParquetArchive(new S3ArchiveStore(client, bucket, prefix));
    }

    /// <summary>The rows of one Parquet row group, read into memory together; default 10,000.</summary>
    public int RowGroupSize
    {
        get => _rowGroupSize;
        set => _rowGroupSize = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A row group holds at least one row.");
    }

    /// <inheritdoc />
    /// <remarks>Default 100,000.</remarks>
    public int SegmentEntries
    {
        get => _segmentEntries;
        set => _segmentEntries = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A segment holds at least one entry.");
    }

    /// <inheritdoc />
    public string Location => _store.Location;

    // Zstandard at its fastest level: as small as its default within 2% here, and some twenty times faster (managed ZstdSharp).
    static ParquetOptions Options(bool append) => new() { CompressionMethod = CompressionMethod.Zstd, CompressionLevel = CompressionLevel.Fastest, Append = append };

    /// <inheritdoc />
    public async Task<RedisStreamsArchiveSegment?> Write(string streamKey, IAsyncEnumerable<StreamEntry> entries, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamKey);
        ArgumentNullException.ThrowIfNull(entries);

        var temporary = _store.CreateTemporaryFile(streamKey);
        try
        {
            string? first = null, last = null;
            long count = 0, bytes;

            var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                var metadata = new Dictionary<string, string>(StringComparer.Ordinal) { [StreamMetadata] = streamKey, [FormatMetadata] = "1" };
                var rows = new List<ArchiveRow>(Math.Min(_rowGroupSize, 10_000));
                await foreach (var entry in entries.WithCancellation(cancellationToken).ConfigureAwait(false))
                {
                    rows.Add(ToRow(entry));
                    first ??= entry.Id;
                    last = entry.Id;

                    if (rows.Count == _rowGroupSize)
                        await WriteRowGroup().ConfigureAwait(false);
                }

                if (rows.Count > 0)
                    await WriteRowGroup().ConfigureAwait(false);

                if (count == 0)
                {
                    file.Close();
                    File.Delete(temporary);
                    return null;
                }

                file.Flush(flushToDisk: true);
                bytes = file.Length;

                async Task WriteRowGroup()
                {
                    var append = count > 0;
                    file.Position = 0;
                    await ParquetSerializer.SerializeAsync(rows, file, Options(append), append ? null : metadata, cancellationToken).ConfigureAwait(false);
                    count += rows.Count;
                    rows.Clear();
                }
            }

            ArchiveSteps.Reach(ArchiveSteps.Written);

            var location = await _store.Commit(temporary, streamKey, SegmentNames.Name(first!, last!, count), cancellationToken).ConfigureAwait(false);
            return new RedisStreamsArchiveSegment
            {
                StreamKey = streamKey,
                FirstEntryId = first!,
                LastEntryId = last!,
                Count = count,
                Bytes = bytes,
                Location = location
            };
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RedisStreamsArchiveSegment>> GetSegments(string streamKey, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamKey);

        var segments = new List<RedisStreamsArchiveSegment>();
        foreach (var (name, location, bytes) in await _store.List(streamKey, cancellationToken).ConfigureAwait(false))
        {
            if (!SegmentNames.TryParse(name, out var first, out var last, out var count))
                continue;

            segments.Add(new RedisStreamsArchiveSegment
            {
                StreamKey = streamKey,
                FirstEntryId = first,
                LastEntryId = last,
                Count = count,
                Bytes = bytes,
                Location = location
            });
        }

        return segments.OrderBy(x => StreamEntryId.Parse(x.FirstEntryId)).ThenBy(x => StreamEntryId.Parse(x.LastEntryId)).ToList();
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<StreamEntry> Read(RedisStreamsArchiveSegment segment, bool newestFirst = false,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segment);

        var file = await _store.OpenRead(segment.Location, cancellationToken).ConfigureAwait(false);
        await using (file.ConfigureAwait(false))
        {
            int groups;
            var reader = await ParquetReader.CreateAsync(file, null, leaveStreamOpen: true, cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
                groups = reader.RowGroupCount;

            for (var i = 0; i < groups; i++)
            {
                var group = newestFirst ? groups - 1 - i : i;
                file.Position = 0;
                var rows = (await ParquetSerializer.DeserializeAsync<ArchiveRow>(file, null, group, cancellationToken).ConfigureAwait(false)).Data;

                for (var j = 0; j < rows.Count; j++)
                    yield return ToEntry(rows[newestFirst ? rows.Count - 1 - j : j]);
            }
        }
    }

    static ArchiveRow ToRow(StreamEntry entry)
    {
        var id = StreamEntryId.Parse(entry.Id);
        var fields = new Dictionary<string, byte[]>(entry.Values.Length, StringComparer.Ordinal);
        foreach (var field in entry.Values)
            fields[(string)field.Name!] = (byte[])field.Value! ?? [];

        return new ArchiveRow { Id = entry.Id!, Milliseconds = (long)id.Milliseconds, Sequence = (long)id.Sequence, Fields = fields };
    }

    static StreamEntry ToEntry(ArchiveRow row)
    {
        var fields = row.Fields is { } values ? values.Select(x => new NameValueEntry(x.Key, x.Value)).ToArray() : [];
        return new StreamEntry(row.Id, fields);
    }

    /// <inheritdoc />
    public override string ToString() => "Parquet archive at " + Location;
}
