namespace MassTransit.RedisStreams.Archive;

using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Amazon.S3;
using Amazon.S3.Model;


/// <summary>
/// Segments as objects in an S3 bucket (or an S3-compatible store), under <c>&lt;prefix&gt;/&lt;stream&gt;/</c>. A segment is written to a
/// local temporary file, then stored with one PutObject: when it completes, the object is durable and whole; a process that
/// dies before leaves no object. Reading downloads a segment to a temporary file, deleted when it is closed.
/// </summary>
sealed class S3ArchiveStore :
    IArchiveStore
{
    readonly string _bucket;
    readonly IAmazonS3 _client;
    readonly string _prefix;

    public S3ArchiveStore(IAmazonS3 client, string bucket, string? prefix)
    {
        _client = client;
        _bucket = bucket;
        _prefix = string.IsNullOrEmpty(prefix) ? "" : prefix.TrimEnd('/') + "/";
    }

    public string Location => "s3://" + _bucket + "/" + _prefix;

    public string CreateTemporaryFile(string streamKey) =>
        Path.Combine(Path.GetTempPath(), "mt-redis-archive-" + Guid.NewGuid().ToString("N") + SegmentNames.Extension);

    public async Task<string> Commit(string temporaryFile, string streamKey, string name, CancellationToken cancellationToken)
    {
        var key = _prefix + SegmentNames.Folder(streamKey) + "/" + name;
        try
        {
            await _client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = _bucket,
                Key = key,
                FilePath = temporaryFile,
                ContentType = "application/vnd.apache.parquet",
                UseChunkEncoding = false
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(temporaryFile);
        }

        return "s3://" + _bucket + "/" + key;
    }

    public async Task<IReadOnlyList<(string Name, string Location, long Bytes)>> List(string streamKey, CancellationToken cancellationToken)
    {
        var folder = _prefix + SegmentNames.Folder(streamKey) + "/";
        var objects = new List<(string, string, long)>();

        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = folder };
        while (true)
        {
            var response = await _client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            foreach (var item in response.S3Objects ?? [])
                objects.Add((item.Key[folder.Length..], "s3://" + _bucket + "/" + item.Key, item.Size ?? 0));

            if (response.IsTruncated != true || string.IsNullOrEmpty(response.NextContinuationToken))
                return objects;

            request.ContinuationToken = response.NextContinuationToken;
        }
    }

    public async Task<Stream> OpenRead(string location, CancellationToken cancellationToken)
    {
        var key = location["s3://".Length..][(_bucket.Length + 1)..];
        var path = Path.Combine(Path.GetTempPath(), "mt-redis-archive-read-" + Guid.NewGuid().ToString("N") + SegmentNames.Extension);

        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        try
        {
            using var response = await _client.GetObjectAsync(_bucket, key, cancellationToken).ConfigureAwait(false);
            await response.ResponseStream.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            file.Position = 0;
            return file;
        }
        catch
        {
            await file.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
