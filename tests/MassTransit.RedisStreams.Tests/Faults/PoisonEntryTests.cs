namespace MassTransit.RedisStreams.Tests.Faults;

using System;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using Redis;
using Xunit;
using Xunit.Abstractions;


/// <summary>
/// An entry whose handling crashes the process every time does not loop forever: after MaxDeliveryCount deliveries it goes
/// to the endpoint's _error stream with the reason, and everything else is processed.
/// </summary>
public class PoisonEntryTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    readonly ITestOutputHelper _output;

    public PoisonEntryTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public async Task An_entry_that_crashes_its_consumer_every_time_goes_to_error_after_the_maximum_deliveries()
    {
        const int sent = 10;
        const int poison = 3;
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var proof = new Proof(db, redis.KeyPrefix);
        var errorStream = redis.Key("queue:work_error");

        await using (var sender = await WorkSender.Start(redis.ConnectionString, redis.KeyPrefix))
            await sender.Send(0, sent, parallel: 1);

        var crashes = 0;
        while (await db.StreamLengthAsync(errorStream) == 0)
        {
            Assert.True(crashes < 8, "the poison entry stopped being delivered after MaxDeliveryCount crashes");

            ConsumerHostProcess host;
            try
            {
                host = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix,
                    ("prefetch", 1), ("claim-timeout-ms", 1000), ("max-deliveries", 3), ("crash-on", poison));
            }
            catch (InvalidOperationException e) when (e.Message.Contains($"crash-on {poison}", StringComparison.Ordinal))
            {
                // The poison entry was claimed and handled before the bus had finished starting.
                crashes++;
                continue;
            }

            using var started = host;

            // The host either crashes on the poison entry or, once it has been moved aside, handles the rest.
            var crashed = Eventually.True(() => host.HasExited, Timeout);
            var moved = Eventually.True(async () => await db.StreamLengthAsync(errorStream) > 0, Timeout);
            await Task.WhenAny(crashed, moved);

            if (host.HasExited)
                crashes++;
        }

        _output.WriteLine($"the consumer crashed {crashes} times before the entry was moved aside");
        Assert.InRange(crashes, 3, 4);

        var entry = (await db.StreamRangeAsync(errorStream, "-", "+")).Single();
        Assert.Equal("max-deliveries", (string?)entry[MessageHeaders.Reason]);
        Assert.Contains("more than the MaxDeliveryCount of 3", (string?)entry[MessageHeaders.FaultMessage], StringComparison.Ordinal);

        using var healthy = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix, ("claim-timeout-ms", 1000));
        Assert.True(await Eventually.True(async () => (await proof.Count(sent)).Lost == 1, Timeout), "every other entry is processed");
        var processed = (await db.HashKeysAsync(redis.KeyPrefix + ":proof:processed")).Select(x => (int)x).ToHashSet();
        Assert.Equal(poison, Enumerable.Range(0, sent).Single(x => !processed.Contains(x)));
    }
}
