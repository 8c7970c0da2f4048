namespace MassTransit.RedisStreams.Tests.Retention;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using RedisStreams.Redis;
using RedisStreams.Transport;
using StackExchange.Redis;
using Tests.Redis;
using Xunit;
using Xunit.Abstractions;


/// <summary>
/// Thousands of short-lived instances, each storing its host record and writing one event: with retention passes between them
/// the memory of the host records levels off; without, it grows by one record per instance.
/// </summary>
public class HostRecordMemoryTests(ITestOutputHelper output)
{
    const int Rounds = 12;
    const int InstancesPerRound = 250;
    const int BusesPerRound = 2;
    const int EventsKept = 100;

    [Fact]
    public async Task The_memory_of_host_records_levels_off_under_retention_instead_of_growing_with_every_instance()
    {
        var trimmed = await RedisTestContext.Create();
        var untrimmed = RedisTestContext.Create(trimmed.ConnectionString, trimmed.KeyPrefix + "-untrimmed");
        var db = await trimmed.Database();
        var admin = BoundedGrowthTests.Admin(db, trimmed, r => r.Events = RedisStreamsRetentionPolicy.Entries(EventsKept));

        var withRetention = new List<(long Records, long Bytes)>();
        var without = new List<(long Records, long Bytes)>();
        var instance = 0;

        for (var round = 0; round < Rounds; round++)
        {
            // Both prefixes get the same instances: short-lived processes of the same service, restarted over and over.
            foreach (var redis in new[] { trimmed, untrimmed })
            {
                var gateway = BoundedGrowthTests.Gateway(db, redis);
                for (var batch = 0; batch < InstancesPerRound; batch += 50)
                {
                    await Task.WhenAll(Enumerable.Range(instance + batch, 50).Select(i => RunInstance(gateway, redis, i)));
                }

                // And a few real buses, each with an identity of its own.
                for (var i = 0; i < BusesPerRound; i++)
                {
                    var bus = BoundedGrowthTests.CreateBus(redis, TimeSpan.FromMilliseconds(200));
                    await bus.StartAsync();
                    await bus.Publish(new GrowthTick(i));
                    await bus.StopAsync();
                }
            }

            instance += InstancesPerRound;

            // The pass comes when this round's holds have ended (and the clock allowance after them): its instances are gone.
            var heldUntil = (await db.SortedSetRangeByRankWithScoresAsync(trimmed.Beside("hosts", "held"), -1, -1)).Single().Score + 100;
            Assert.True(await Eventually.True(async () => await BoundedGrowthTests.ServerMs(db) > heldUntil, TimeSpan.FromSeconds(10)));

            var report = await admin.Trim();
            withRetention.Add(await Measure(db, trimmed));
            without.Add(await Measure(db, untrimmed));
            output.WriteLine($"after {instance + (round + 1) * BusesPerRound,5} instances: with retention {withRetention[^1].Records,5} records "
                + $"{withRetention[^1].Bytes,9:N0} B (removed {report.RemovedHostRecords,4}); without {without[^1].Records,5} records {without[^1].Bytes,9:N0} B");
        }

        var instances = Rounds * (InstancesPerRound + BusesPerRound);
        Assert.Equal(instances, without[^1].Records);

        // Without retention: one record per instance, memory in proportion.
        Assert.True(without[^1].Bytes > without[0].Bytes * (Rounds - 2), "without retention the records grow with the instances");

        // With it: after each pass, only the records the kept events name, and the memory of the last round no higher than
        // that of the first.
        var plateau = withRetention.Max(x => x.Bytes);
        Assert.All(withRetention, x => Assert.True(x.Records <= EventsKept, $"{x.Records} records"));
        Assert.True(withRetention[^1].Bytes <= withRetention[0].Bytes * 11 / 10, $"levelled off: {withRetention[0].Bytes} B then {withRetention[^1].Bytes} B");
        Assert.True(plateau * 10 < without[^1].Bytes, $"{plateau} B against {without[^1].Bytes} B");
    }

    /// <summary>What a process does with its record: stores and holds it before its first entry, and names it in the entry.</summary>
    static async Task RunInstance(RedisGateway gateway, RedisTestContext redis, int number)
    {
        var records = new HostRecords(gateway.Hosts, () => new Uri($"redis://127.0.0.1/{redis.KeyPrefix}/service_bus_{number}?temporary=true"),
            TimeSpan.FromMilliseconds(200));
        await records.EnsureOwnStored();

        var entry = new NewEntry();
        entry.Add("body", "{\"number\":" + number + "}");
        entry.Add("MT-MessageType", "urn:message:MassTransit.RedisStreams.Tests.Retention:GrowthTick");
        entry.Add(EntryFieldNames.Host, records.Own.Id);
        await gateway.Appends.Append(redis.Key("events:GrowthTick"), entry, onlyIfStreamExists: false);
    }

    static async Task<(long Records, long Bytes)> Measure(IDatabase db, RedisTestContext redis)
    {
        var records = await db.HashLengthAsync(redis.Key("hosts"));
        long bytes = 0;
        foreach (var key in new[] { redis.Key("hosts"), redis.Beside("hosts", "held") })
        {
            var usage = await db.ExecuteAsync("MEMORY", "USAGE", key.ToString(), "SAMPLES", "0");
            bytes += usage.IsNull ? 0 : (long)usage;
        }

        return (records, bytes);
    }
}
