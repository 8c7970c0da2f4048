namespace MassTransit.RedisStreams.Tests.Redis.Scripts;

using System;
using System.Collections.Concurrent;
using System.Threading.Tasks;
using Infrastructure;
using RedisStreams.Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>schedule.lua and cancel-scheduled.lua.</summary>
public class ScheduleScriptTests :
    ScriptTest
{
    [Fact]
    public async Task A_message_is_held_by_its_token_the_same_token_replaces_it_and_a_new_earliest_due_time_is_announced()
    {
        await Start();
        var delayed = Key("delayed");
        var entries = Key("entries");
        var channel = RedisChannel.Literal(Redis.KeyPrefix + ":delayed");
        var heard = new ConcurrentQueue<string>();
        var subscriber = Db.Multiplexer.GetSubscriber();
        // A message queue delivers in order; a handler may run concurrently with the next.
        var messages = await subscriber.SubscribeAsync(channel);
        messages.OnMessage(message => heard.Enqueue(message.Message!));

        // Each call answers how many messages wait now: 1 tells the caller the set was empty before.
        Assert.Equal(1, (long)await Run(RedisScript.Schedule, [delayed, entries], "t1", 2000, "packed-1", channel.ToString(), "queue:x"));
        Assert.Equal(2, (long)await Run(RedisScript.Schedule, [delayed, entries], "t2", 3000, "packed-2", channel.ToString(), "queue:x"));
        Assert.Equal(2, (long)await Run(RedisScript.Schedule, [delayed, entries], "t1", 1000, "packed-1b", channel.ToString(), "queue:x"));

        Assert.Equal(2, await Db.SortedSetLengthAsync(delayed));
        Assert.Equal(1000, await Db.SortedSetScoreAsync(delayed, "t1"));
        Assert.Equal("packed-1b", (string?)await Db.HashGetAsync(entries, "t1"));

        await subscriber.PingAsync();
        Assert.True(await Eventually.True(() => heard.Count >= 2, TimeSpan.FromSeconds(5)));
        Assert.Equal(["2000 queue:x", "1000 queue:x"], heard);
        await subscriber.UnsubscribeAsync(channel);
    }

    [Fact]
    public async Task Cancel_removes_a_held_message_once()
    {
        await Start();
        var delayed = Key("delayed");
        var entries = Key("entries");
        await Db.SortedSetAddAsync(delayed, "t1", 1000);
        await Db.HashSetAsync(entries, "t1", "packed");

        Assert.Equal(1, (long)await Run(RedisScript.CancelScheduled, [delayed, entries], "t1"));
        Assert.Equal(0, (long)await Run(RedisScript.CancelScheduled, [delayed, entries], "t1"));
        Assert.False(await Db.KeyExistsAsync(delayed));
        Assert.False(await Db.KeyExistsAsync(entries));
    }
}
