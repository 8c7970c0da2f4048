namespace MassTransit.RedisStreams.Tests.Archive;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Amazon.S3.Model;
using History;
using Infrastructure;
using Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>The archive in an S3 bucket, against s3rver: segments stored as objects, listed, read back with the stream.</summary>
public sealed class S3ArchiveTests
{
    [S3rverFact]
    public async Task Retention_archives_to_a_bucket_and_the_history_reads_it_with_the_stream()
    {
        using var s3 = await S3rverProcess.Start();
        using var client = s3.CreateClient();

        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var stream = redis.Key("events:LotSold");
        var ids = new List<string>();
        for (var i = 0; i < 50; i++)
            ids.Add((string)(await db.StreamAddAsync(stream, [new NameValueEntry("body", $"{{\"lot\":{i},\"buyer\":\"b\",\"price\":1}}"), new NameValueEntry("n", i)]))!);

        using var multiplexer = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        RedisStreamsParquetArchive? archive = null;
        var admin = new RedisStreamsAdmin(multiplexer, redis.KeyPrefix, retention: r =>
        {
            r.Events = RedisStreamsRetentionPolicy.Entries(15);
            archive = r.ArchiveToS3(client, S3rverProcess.Bucket, "shop/", a => a.SegmentEntries = 20);
        });

        var report = await admin.Trim();
        Assert.Equal(35, report.Archived[stream.ToString()]);
        Assert.Equal(15, await db.StreamLengthAsync(stream));

        // Two objects, named by their range, under the prefix and the stream.
        var objects = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3rverProcess.Bucket, Prefix = "shop/" });
        Assert.Equal(
            [$"shop/{Uri.EscapeDataString(stream.ToString())}/{ids[0]}_{ids[19]}_20.parquet", $"shop/{Uri.EscapeDataString(stream.ToString())}/{ids[20]}_{ids[34]}_15.parquet"],
            objects.S3Objects.Select(x => x.Key).Order(StringComparer.Ordinal));

        var segments = await archive!.GetSegments(stream.ToString());
        Assert.Equal([20L, 15L], segments.Select(x => x.Count));
        Assert.All(segments, x => Assert.StartsWith("s3://archive/shop/", x.Location));
        Assert.All(segments, x => Assert.True(x.Bytes > 0));

        // Newest first from an object: every field as it was.
        var newest = new List<StreamEntry>();
        await foreach (var entry in archive.Read(segments[1], newestFirst: true))
            newest.Add(entry);
        Assert.Equal(ids.Skip(20).Take(15).Reverse(), newest.Select(x => (string)x.Id!));
        Assert.Equal("34", (string?)newest[0]["n"]);

        var history = new RedisStreamsEventHistory(multiplexer, redis.KeyPrefix).WithArchive(archive);
        var read = new List<string>();
        await foreach (var e in history.ReadEvents<LotSold>())
            read.Add(e.EntryId);
        Assert.Equal(ids, read);
        Assert.Equal(Enumerable.Range(0, 50).Reverse(), (await history.GetEvents<LotSold>(count: 100)).Select(x => x.Message!.Lot));

        // A second pass with nothing more to remove lists the bucket and writes nothing.
        report = await admin.Trim();
        Assert.False(report.Archived.ContainsKey(stream.ToString()));
        Assert.Equal(2, (await archive.GetSegments(stream.ToString())).Count);
    }
}
