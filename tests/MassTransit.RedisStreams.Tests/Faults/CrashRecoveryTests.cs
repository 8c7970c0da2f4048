namespace MassTransit.RedisStreams.Tests.Faults;

using System;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using Redis;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;


/// <summary>
/// The entries of a killed instance are handled by another one soon after its name lease runs out, long before the claim
/// timeout; a live instance whose handler runs longer than the lease and the claim timeout keeps its entries.
/// </summary>
public class CrashRecoveryTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    readonly ITestOutputHelper _output;

    public CrashRecoveryTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public async Task The_entries_of_a_killed_instance_are_handled_by_the_survivor_long_before_the_claim_timeout()
    {
        const int sent = 20;
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var proof = new Proof(db, redis.KeyPrefix);
        var queue = redis.Key("queue:work");

        // The claim timeout stays at its default of 30 s. The doomed instance holds every entry and handles one a second.
        using var doomed = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix,
            ("consumer-name", "doomed"), ("prefetch", sent), ("concurrency", 1), ("handler-ms", 1000));

        await using (var sender = await WorkSender.Start(redis.ConnectionString, redis.KeyPrefix))
            await sender.Send(0, sent);

        Assert.True(await Eventually.True(async () => await PendingFor(db, queue, "doomed") == sent, Timeout), "the doomed instance read every entry");

        using var survivor = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix,
            ("consumer-name", "survivor"), ("prefetch", 50), ("concurrency", 50), ("handler-ms", 10));

        var killedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        doomed.Kill();

        // What the killed instance left pending; nobody can claim it before its lease runs out, seconds from now.
        var orphaned = (await db.StreamPendingMessagesAsync(queue, "work", sent, "doomed")).Select(x => x.MessageId.ToString()).ToList();
        Assert.NotEmpty(orphaned);

        var entries = (RedisKey)(redis.KeyPrefix + ":proof:entries");
        Assert.True(await Eventually.True(async () =>
        {
            var handled = (await db.HashGetAllAsync(entries)).ToDictionary(x => x.Name.ToString(), x => x.Value.ToString());
            return orphaned.All(id => handled.TryGetValue(id, out var by) && by.EndsWith(" survivor", StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(15)), "the survivor handled the killed instance's entries within 15 s, half the claim timeout");

        var handledAt = (await db.HashGetAllAsync(entries)).Where(x => orphaned.Contains(x.Name.ToString()))
            .Select(x => long.Parse(x.Value.ToString().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        _output.WriteLine($"{orphaned.Count} orphaned entries; the last handled by the survivor {handledAt.Max() - killedAt} ms after the kill, the first "
            + $"{handledAt.Min() - killedAt} ms");

        Assert.True(await proof.AllHandled(sent, Timeout), "every message is handled");
        var counts = await proof.Count(sent);
        _output.WriteLine(counts.ToString());
        Assert.Equal(0, counts.Lost);
        Assert.InRange(counts.Duplicated, 0, orphaned.Count);
    }

    [Fact]
    public async Task A_live_instance_whose_handler_outlasts_the_lease_and_the_claim_timeout_keeps_its_entries()
    {
        const int sent = 2;
        var redis = await RedisTestContext.Create();
        var proof = new Proof(await redis.Database(), redis.KeyPrefix);

        // Each handler runs 8 s: longer than the 3 s lease with its 3 s quarantine, and four claim timeouts.
        (string, object)[] options = [("prefetch", 1), ("handler-ms", 8000), ("claim-timeout-ms", 2000)];
        using var first = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix, [..options, ("consumer-name", "first")]);
        using var second = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix, [..options, ("consumer-name", "second")]);

        await using (var sender = await WorkSender.Start(redis.ConnectionString, redis.KeyPrefix))
            await sender.Send(0, sent);

        Assert.True(await proof.AllHandled(sent, Timeout));
        var counts = await proof.Count(sent);
        _output.WriteLine(counts.ToString());

        Assert.Equal(0, counts.Lost);
        Assert.Equal(0, counts.Duplicated);

        var deliveries = (await (await redis.Database()).HashGetAllAsync(redis.KeyPrefix + ":proof:deliveries")).Select(x => x.Value.ToString()).ToList();
        Assert.All(deliveries, x => Assert.StartsWith("1:False:", x, StringComparison.Ordinal));
    }

    /// <summary>How many entries of <paramref name="queue" />'s group <c>work</c> <paramref name="consumer" /> holds; 0 before the group exists.</summary>
    internal static async Task<long> PendingFor(IDatabase db, RedisKey queue, string consumer)
    {
        try
        {
            var consumers = await db.StreamConsumerInfoAsync(queue, "work");
            return consumers.FirstOrDefault(x => x.Name == consumer).PendingMessageCount;
        }
        catch (RedisServerException)
        {
            return 0;
        }
    }
}
