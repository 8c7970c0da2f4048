namespace MassTransit.RedisStreams.Tests.Faults;

using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using Redis;
using Xunit;
using Xunit.Abstractions;


/// <summary>
/// A graceful stop under load loses nothing and leaves nothing pending for long: what is in flight finishes and is
/// acknowledged; what is buffered but not started is released for other instances at once.
/// </summary>
public class ShutdownTests
{
    readonly ITestOutputHelper _output;

    public ShutdownTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public async Task A_stopping_instance_finishes_what_is_in_flight_and_hands_its_buffer_to_another_instance_at_once()
    {
        const int sent = 300;
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var proof = new Proof(db, redis.KeyPrefix);

        // A claim timeout far longer than the test: entries reach the other instance only if they are released.
        (string, object)[] options = [("prefetch", 50), ("concurrency", 2), ("handler-ms", 40), ("claim-timeout-ms", 120_000)];
        using var stopping = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix, [..options, ("consumer-name", "stopping")]);
        using var staying = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix, [..options, ("consumer-name", "staying")]);

        await using (var sender = await WorkSender.Start(redis.ConnectionString, redis.KeyPrefix))
            await sender.Send(0, sent);

        Assert.True(await Eventually.True(async () => await proof.HandledCount() >= 30, TimeSpan.FromSeconds(30)));
        var heldBeforeStop = (await db.StreamConsumerInfoAsync(redis.Key("queue:work"), "work")).Single(x => x.Name == "stopping").PendingMessageCount;

        var stopwatch = Stopwatch.StartNew();
        await stopping.Terminate(TimeSpan.FromSeconds(30));
        _output.WriteLine($"stopped in {stopwatch.ElapsedMilliseconds} ms holding {heldBeforeStop} entries; output:\n{stopping.Output}");

        Assert.True(await proof.AllHandled(sent, TimeSpan.FromSeconds(60)), "everything is handled, long before the claim timeout");
        var counts = await proof.Count(sent);
        _output.WriteLine($"{counts}, all handled {stopwatch.Elapsed.TotalSeconds:F1} s after the stop began");

        Assert.Equal(0, counts.Lost);
        Assert.Equal(0, counts.Duplicated);

        Assert.True(await Eventually.True(async () =>
            (await db.StreamPendingAsync(redis.Key("queue:work"), "work")).PendingMessageCount == 0, TimeSpan.FromSeconds(30)));
        Assert.DoesNotContain(await db.StreamConsumerInfoAsync(redis.Key("queue:work"), "work"), x => x.Name == "stopping" && x.PendingMessageCount > 0);
    }
}
