namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Linq;
using System.Threading.Tasks;
using MassTransit.RedisStreams.Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// Appends to one stream made while one is on its way go together in one script call, in the order they were made; each
/// caller gets its own entry's ID, or its own error.
/// </summary>
public class AppendBatchingTests
{
    [Fact]
    public async Task Concurrent_appends_to_a_stream_go_in_few_calls_in_the_order_they_were_made()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var client = new RedisGateway(new RedisConnection(db.Multiplexer, observe: false), new StreamKeys(redis.KeyPrefix));
        var stream = redis.Key("queue:batched");

        const int count = 2_000;
        var appends = Enumerable.Range(0, count).Select(i =>
        {
            var entry = new NewEntry();
            entry.Add("body", $"{{\"n\":{i}}}");
            entry.Add("n", i);
            return client.Appends.Append(stream, entry, onlyIfStreamExists: false);
        }).ToArray();

        var ids = await Task.WhenAll(appends);

        // In call order, each caller got the ID of its own entry, and the IDs rise.
        var entries = await db.StreamRangeAsync(stream, "-", "+");
        Assert.Equal(count, entries.Length);
        Assert.Equal(Enumerable.Range(0, count), entries.Select(x => (int)x["n"]));
        Assert.Equal(entries.Select(x => x.Id.ToString()), ids);

        // The entry IDs continue the clock, so an append to another stream afterwards orders after all of them.
        var other = redis.Key("queue:other");
        var next = new NewEntry();
        next.Add("body", "{}");
        var nextId = StreamEntryId.Parse((await client.Appends.Append(other, next, onlyIfStreamExists: false))!);
        Assert.True(nextId > StreamEntryId.Parse(ids[^1]!));
    }

    [Fact]
    public async Task A_batch_for_a_stream_that_must_exist_tells_each_caller_it_does_not()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var client = new RedisGateway(new RedisConnection(db.Multiplexer, observe: false), new StreamKeys(redis.KeyPrefix));
        var missing = redis.Key("queue:gone");

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
        {
            var entry = new NewEntry();
            entry.Add("body", "{}");
            return client.Appends.Append(missing, entry, onlyIfStreamExists: true);
        }));

        Assert.All(results, Assert.Null);
        Assert.False(await db.KeyExistsAsync(missing));
    }

    [Fact]
    public async Task An_entry_Redis_refuses_fails_its_own_append_only()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var client = new RedisGateway(new RedisConnection(db.Multiplexer, observe: false), new StreamKeys(redis.KeyPrefix));
        var stream = redis.Key("queue:mixed");

        // Entry 10 has no fields, which XADD refuses; it goes in the same call as the entries around it.
        var appends = Enumerable.Range(0, 20).Select(i =>
        {
            var entry = new NewEntry();
            if (i != 10)
            {
                entry.Add("body", $"{{\"n\":{i}}}");
                entry.Add("n", i);
            }

            return client.Appends.Append(stream, entry, onlyIfStreamExists: false);
        }).ToList();

        var refused = await Assert.ThrowsAsync<RedisServerException>(() => appends[10]);
        Assert.Contains("wrong number of arg", refused.Message, StringComparison.OrdinalIgnoreCase);

        foreach (var append in appends.Where((_, i) => i != 10))
            Assert.NotNull(await append);

        var entries = await db.StreamRangeAsync(stream, "-", "+");
        Assert.Equal(Enumerable.Range(0, 20).Where(i => i != 10), entries.Select(x => (int)x["n"]));
    }
}
