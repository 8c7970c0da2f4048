namespace MassTransit.RedisStreams.Tests.Faults;

using System;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using Redis;
using Xunit;
using Xunit.Abstractions;


/// <summary>
/// A consumer process killed with entries read but not acknowledged loses nothing: a surviving instance of the same
/// endpoint claims and processes them once the killed one's name lease has run out (or, failing that, once they have been
/// idle longer than the claim timeout).
/// </summary>
public class ConsumerCrashTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    readonly ITestOutputHelper _output;

    public ConsumerCrashTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public async Task A_consumer_killed_mid_batch_loses_nothing_and_its_entries_are_redelivered_with_their_delivery_count()
    {
        const int sent = 400;
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var proof = new Proof(db, redis.KeyPrefix);

        // 20 handlers of 50 ms each: 400 entries a second per instance, so the killed one still holds a full buffer of the
        // backlog when it dies (with handlers of 10 ms both instances could be through the 400 before the kill).
        (string, object)[] options = [("prefetch", 20), ("handler-ms", 50), ("claim-timeout-ms", 2000)];
        using var doomed = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix, [..options, ("consumer-name", "doomed")]);
        using var survivor = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix, [..options, ("consumer-name", "survivor")]);

        await using (var sender = await WorkSender.Start(redis.ConnectionString, redis.KeyPrefix))
            await sender.Send(0, sent);

        Assert.True(await Eventually.True(async () => await proof.HandledCount() >= 100, Timeout), "consuming started");
        doomed.Kill();

        var consumers = await db.StreamConsumerInfoAsync(redis.Key("queue:work"), "work");
        var orphaned = consumers.Single(x => x.Name == "doomed").PendingMessageCount;
        Assert.True(orphaned > 0, "the killed consumer had entries read but not acknowledged");

        Assert.True(await proof.AllHandled(sent, Timeout), "the survivor handles everything, the orphaned entries included");

        // Orphans the killed consumer had handled but not acknowledged count as handled already: wait for the claims too.
        Assert.True(await Eventually.True(async () =>
            (await db.StreamPendingAsync(redis.Key("queue:work"), "work")).PendingMessageCount == 0, Timeout), "nothing stays pending");

        var counts = await proof.Count(sent);
        _output.WriteLine($"{counts}; {orphaned} entries were pending for the killed consumer");

        Assert.Equal(0, counts.Lost);
        Assert.InRange(counts.Duplicated, 0, orphaned);

        var deliveries = (await db.HashGetAllAsync(redis.KeyPrefix + ":proof:deliveries")).Select(x => ((string)x.Value!).Split(':')).ToList();
        var redelivered = deliveries.Where(x => x[2] == "survivor" && int.Parse(x[0]) > 1).ToList();
        _output.WriteLine($"deliveries: {string.Join(", ", deliveries.GroupBy(x => $"{x[0]}:{x[1]}:{x[2]}").Select(x => $"{x.Key} x{x.Count()}"))}");

        Assert.True(redelivered.Count > 0, "the survivor received the killed consumer's entries as redeliveries");
        Assert.All(redelivered, x => Assert.Equal("True", x[1]));
    }

    [Fact]
    public async Task A_handler_slower_than_the_claim_timeout_keeps_its_entry_and_is_not_duplicated()
    {
        const int sent = 4;
        var redis = await RedisTestContext.Create();
        var proof = new Proof(await redis.Database(), redis.KeyPrefix);

        (string, object)[] options = [("prefetch", 1), ("handler-ms", 3500), ("claim-timeout-ms", 1000)];
        using var first = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix, options);
        using var second = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix, options);

        await using (var sender = await WorkSender.Start(redis.ConnectionString, redis.KeyPrefix))
            await sender.Send(0, sent);

        Assert.True(await proof.AllHandled(sent, Timeout));
        var counts = await proof.Count(sent);
        _output.WriteLine(counts.ToString());

        Assert.Equal(0, counts.Lost);
        Assert.Equal(0, counts.Duplicated);
    }
}
