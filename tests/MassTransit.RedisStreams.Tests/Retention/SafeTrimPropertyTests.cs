namespace MassTransit.RedisStreams.Tests.Retention;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Redis;
using RedisStreams.Redis;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;


/// <summary>
/// Redis 7.0 has no consumer-aware trim, so the transport computes where it may trim from every group's position and pending
/// entries. Whatever the groups' positions, pending sets and the policy, no entry a group has not had delivered and
/// acknowledged is ever removed, and the policy is applied as far as that allows.
/// </summary>
public class SafeTrimPropertyTests
{
    readonly ITestOutputHelper _output;

    public SafeTrimPropertyTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public async Task Trimming_never_removes_an_entry_a_group_still_needs_whatever_the_groups_positions_and_pending_entries()
    {
        var seed = Environment.TickCount;
        _output.WriteLine($"seed {seed}");
        var random = new Random(seed);

        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var client = new RedisGateway(new RedisConnection(db.Multiplexer, observe: false), new StreamKeys(redis.KeyPrefix));

        for (var round = 0; round < 60; round++)
        {
            var key = redis.Key($"events:Case{round}");
            var length = random.Next(1, 300);
            var ids = new List<RedisValue>();
            for (var i = 0; i < length; i++)
                ids.Add(await db.StreamAddAsync(key, "body", "{}"));

            // Each group: delivered up to a random position, with a random part of what was delivered still pending.
            var needed = new HashSet<string>();
            var groupCount = random.Next(0, 4);
            for (var g = 0; g < groupCount; g++)
            {
                var group = "g" + g;
                var delivered = random.Next(0, length + 1);
                await db.StreamCreateConsumerGroupAsync(key, group, "0");
                if (delivered > 0)
                {
                    var read = await db.StreamReadGroupAsync(key, group, "c", ">", delivered);
                    var acknowledged = read.Where(_ => random.Next(3) > 0).Select(x => x.Id).ToArray();
                    if (acknowledged.Length > 0)
                        await db.StreamAcknowledgeAsync(key, group, acknowledged);

                    foreach (var entry in read.Where(x => !acknowledged.Contains(x.Id)))
                        needed.Add(entry.Id!);
                }

                foreach (var id in ids.Skip(delivered))
                    needed.Add(id!);
            }

            long? maxEntries = random.Next(3) == 0 ? null : random.Next(0, length + 5);
            TimeSpan? maxAge = random.Next(3) == 0 ? TimeSpan.Zero : null;
            if (maxEntries == null && maxAge == null)
                maxEntries = 0;

            var time = (RedisValue[])(await db.ExecuteAsync("TIME"))!;
            var serverNow = (ulong)((long)time[0] * 1000 + (long)time[1] / 1000);

            var (removed, keptFor, _) = await client.Trimming.Trim(key, maxEntries, maxAge, 1000);

            var remaining = (await db.StreamRangeAsync(key)).Select(x => (string)x.Id!).ToList();
            var description = $"round {round}: {length} entries, {groupCount} groups, max entries {maxEntries}, max age {maxAge}; "
                + $"removed {removed}, kept for {keptFor}";

            Assert.True(needed.All(remaining.Contains), "an entry a group needs was removed; " + description);
            Assert.Equal(length - remaining.Count, removed);

            // As far as the groups allow: what is left is within the policy, or starts with an entry a group needs.
            var withinPolicy = (maxEntries == null || remaining.Count <= maxEntries)
                && (maxAge == null || remaining.All(x => StreamEntryId.Parse(x).Milliseconds >= serverNow));
            Assert.True(withinPolicy || needed.Contains(remaining[0]), "the policy was not applied as far as the groups allow; " + description);
            Assert.True(withinPolicy || keptFor != null, "the group that kept entries is not named; " + description);
        }
    }
}
