namespace MassTransit.RedisStreams.Tests.Faults;

using System;
using System.Threading.Tasks;
using Infrastructure;
using Redis;
using Xunit;


/// <summary>
/// A consumer group that disappears under a running endpoint — deleted by hand, or lost with a Redis that kept no data — is
/// created again where the endpoint last read, and the endpoint keeps consuming without a restart.
/// </summary>
public class LostGroupTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_deleted_group_is_created_again_after_the_last_entry_read_and_consuming_goes_on()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var proof = new Proof(db, redis.KeyPrefix);

        using var consumer = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix);
        await using var sender = await WorkSender.Start(redis.ConnectionString, redis.KeyPrefix);

        await sender.Send(0, 50);
        Assert.True(await proof.AllHandled(50, Timeout));

        await db.StreamDeleteConsumerGroupAsync(redis.Key("queue:work"), "work");

        await sender.Send(50, 100);
        Assert.True(await proof.AllHandled(100, Timeout), "the messages sent after the group was deleted are handled");

        var counts = await proof.Count(100);
        Assert.Equal(0, counts.Duplicated);
        Assert.False(consumer.HasExited);
    }

    [RedisServerFact]
    public async Task After_a_restart_of_a_redis_that_kept_no_data_the_endpoint_sets_itself_up_again_and_consumes()
    {
        using var server = RedisServerProcess.Start(appendOnly: false);
        var redis = await RedisTestContext.Create(server.ConnectionString);
        var proof = new Proof(await redis.Database(), redis.KeyPrefix);

        using var consumer = await ConsumerHostProcess.Start(server.ConnectionString, redis.KeyPrefix);
        await using var sender = await WorkSender.Start(server.ConnectionString, redis.KeyPrefix, sendTimeout: TimeSpan.FromSeconds(30));

        await sender.Send(0, 20);
        Assert.True(await proof.AllHandled(20, Timeout));

        server.Kill();
        server.Restart();

        // Everything is gone, the proof counters too; the endpoint must create its stream and group again by itself.
        await sender.Send(20, 40);
        Assert.True(await Eventually.True(async () => await proof.HandledCount() == 20, Timeout), "the messages sent after the restart are handled");
        Assert.False(consumer.HasExited);
    }
}
