namespace MassTransit.RedisStreams.Tests.Redis.Scripts;

using System;
using System.Linq;
using System.Threading.Tasks;
using RedisStreams.Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>set-idle-time.lua and remove-consumers.lua, on a real pending list.</summary>
public class PendingScriptTests :
    ScriptTest
{
    [Fact]
    public async Task Setting_the_idle_time_moves_it_for_own_entries_keeps_the_delivery_count_and_names_those_that_are_not_own()
    {
        await Start();
        var stream = Key("queue:idle");
        var ids = await Read(stream, ("me", 3), ("other", 1));
        await Db.StreamAcknowledgeAsync(stream, "g", ids[0]);

        var lost = (RedisValue[])(await Run(RedisScript.SetIdleTime, [stream], "g", "me", 3_600_000, ids[0], ids[1], ids[2], ids[3]))!;

        Assert.Equal([ids[0], ids[3]], lost);
        var pending = await Db.StreamPendingMessagesAsync(stream, "g", 10, "me");
        Assert.All(pending, x => Assert.True(x.IdleTimeInMilliseconds >= 3_600_000, $"idle {x.IdleTimeInMilliseconds}"));
        Assert.All(pending, x => Assert.Equal(1, x.DeliveryCount));

        await Run(RedisScript.SetIdleTime, [stream], "g", "me", 0, ids[1], ids[2]);

        pending = await Db.StreamPendingMessagesAsync(stream, "g", 10, "me");
        Assert.All(pending, x => Assert.True(x.IdleTimeInMilliseconds < 60_000, $"idle {x.IdleTimeInMilliseconds}"));
        Assert.All(pending, x => Assert.Equal(1, x.DeliveryCount));
    }

    [Fact]
    public async Task Only_consumers_idle_long_enough_with_nothing_pending_are_removed()
    {
        await Start();
        var stream = Key("queue:consumers");
        var ids = await Read(stream, ("busy", 1), ("idle", 1), ("kept", 1), ("named", 1));
        await Db.StreamAcknowledgeAsync(stream, "g", [ids[1], ids[2], ids[3]]);

        // Not idle long enough: nobody goes.
        Assert.Empty((RedisValue[])(await Run(RedisScript.RemoveConsumers, [stream], "g", 3_600_000, "", "kept"))!);

        // The one named, only.
        Assert.Equal(["named"], ((RedisValue[])(await Run(RedisScript.RemoveConsumers, [stream], "g", 0, "named", ""))!).Select(x => x.ToString()));

        // All but the one kept, and never one with pending entries.
        Assert.Equal(["idle"], ((RedisValue[])(await Run(RedisScript.RemoveConsumers, [stream], "g", 0, "", "kept"))!).Select(x => x.ToString()));
        Assert.Equal(["busy", "kept"], (await Db.StreamConsumerInfoAsync(stream, "g")).Select(x => x.Name).Order());
    }

    /// <summary>Appends one entry per count and reads them through group "g" as the consumers given.</summary>
    async Task<RedisValue[]> Read(RedisKey stream, params (string Consumer, int Count)[] reads)
    {
        await Db.StreamCreateConsumerGroupAsync(stream, "g", "0", true);
        foreach (var (consumer, count) in reads)
        {
            for (var i = 0; i < count; i++)
                await Db.StreamAddAsync(stream, "body", "{}");
            await Db.StreamReadGroupAsync(stream, "g", consumer, ">", count);
        }

        return (await Db.StreamRangeAsync(stream)).Select(x => x.Id).ToArray();
    }
}
