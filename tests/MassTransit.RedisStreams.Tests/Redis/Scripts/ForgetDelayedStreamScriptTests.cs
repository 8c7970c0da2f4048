namespace MassTransit.RedisStreams.Tests.Redis.Scripts;

using System.Threading.Tasks;
using RedisStreams.Redis;
using Xunit;


/// <summary>forget-delayed-stream.lua: a stream leaves delayed-streams only while nothing waits for it.</summary>
public class ForgetDelayedStreamScriptTests :
    ScriptTest
{
    [Fact]
    public async Task A_stream_is_forgotten_when_its_delayed_set_is_empty_and_kept_while_a_message_waits()
    {
        await Start();
        var streams = Key("delayed-streams");
        var delayed = Key("delayed");
        await Db.SetAddAsync(streams, "queue:x");
        await Db.SortedSetAddAsync(delayed, "t1", 1000);

        Assert.Equal(0, (long)await Run(RedisScript.ForgetDelayedStream, [streams, delayed], "queue:x"));
        Assert.True(await Db.SetContainsAsync(streams, "queue:x"));

        await Db.SortedSetRemoveAsync(delayed, "t1");
        Assert.Equal(1, (long)await Run(RedisScript.ForgetDelayedStream, [streams, delayed], "queue:x"));
        Assert.False(await Db.SetContainsAsync(streams, "queue:x"));

        Assert.Equal(0, (long)await Run(RedisScript.ForgetDelayedStream, [streams, delayed], "queue:x"));
    }
}
