namespace MassTransit.RedisStreams.Tests.Partitions;

using System;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Contract;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Redis;
using RedisStreams.Redis;
using Xunit;


/// <summary>The operator's tool shows a partitioned type as one type, with its partitions listed under it.</summary>
public class PartitionCliTests
{
    [Fact]
    public async Task Streams_info_and_history_show_a_partitioned_type_as_one()
    {
        var redis = await RedisTestContext.Create();
        var seen = new Recorder<Seen>();
        await using (var provider = await redis.StartHarness(_ => { }, (_, cfg) =>
                     {
                         cfg.Partition<MeterRead>(3);
                         cfg.ReceiveEndpoint("meters", e => PartitionSupport.Record<MeterRead>(e, "meters", seen));
                     }))
        {
            var bus = provider.GetRequiredService<ITestHarness>().Bus;
            var meters = PartitionSupport.Keys(12);
            for (var sequence = 1; sequence <= 12; sequence++)
                await bus.Publish(new MeterRead(meters[sequence - 1], sequence));
            await seen.WaitForCount(12);
        }

        var streams = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "streams", "--output", "text");
        Assert.True(streams.ExitCode == 0, streams.ToString());
        var row = Assert.Single(streams.Output.Split('\n'), x => x.Contains("MeterRead", StringComparison.Ordinal));
        Assert.Contains("3 partitions", row);
        Assert.Contains(" 12 ", row);

        var info = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "info", "MeterRead", "--output", "text");
        Assert.True(info.ExitCode == 0, info.ToString());
        Assert.Contains(info.Output.Split('\n'), x => x.StartsWith("Length", StringComparison.Ordinal) && x.Contains("12", StringComparison.Ordinal));
        Assert.Contains(info.Output.Split('\n'), x => x.StartsWith("Partitions", StringComparison.Ordinal) && x.Contains("3 partitions", StringComparison.Ordinal));
        foreach (var stream in PartitionKeys.Streams(new StreamKeys(redis.KeyPrefix), "MeterRead", 3))
            Assert.Contains(stream.ToString(), info.Output);

        var json = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "info", "MeterRead", "--output", "json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var described = JsonDocument.Parse(json.Output).RootElement;
        Assert.Equal(12, described.GetProperty("length").GetInt64());
        Assert.Equal(3, described.GetProperty("partitions").GetArrayLength());
        Assert.Equal(12, described.GetProperty("partitions").EnumerateArray().Sum(x => x.GetProperty("length").GetInt64()));

        var history = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "history", "MeterRead", "--count", "5");
        Assert.True(history.ExitCode == 0, history.ToString());
        var events = JsonDocument.Parse(history.Output).RootElement.EnumerateArray().ToList();
        Assert.Equal([12, 11, 10, 9, 8], events.Select(x => x.GetProperty("message").GetProperty("sequence").GetInt32()));

        // A retired endpoint's group goes from every partition, so that none holds retention back for it.
        var delete = await CliProcess.Run(redis.ConnectionString, redis.KeyPrefix, "groups", "delete", "MeterRead", "meters", "--yes");
        Assert.True(delete.ExitCode == 0, delete.ToString());
        Assert.Contains("and its 3 partitions", delete.Output);
        var db = await redis.Database();
        foreach (var stream in PartitionKeys.Streams(new StreamKeys(redis.KeyPrefix), "MeterRead", 3))
            Assert.Empty(await db.StreamGroupInfoAsync(stream));
        Assert.Empty(await db.StreamGroupInfoAsync(redis.Key("events:MeterRead")));
    }
}
