namespace MassTransit.RedisStreams.Tests.Redis.Scripts;

using System.Threading.Tasks;
using RedisStreams.Redis;
using StackExchange.Redis;


/// <summary>Runs one of the transport's Lua scripts, as the gateway does, against the tests' Redis under a key prefix of its own.</summary>
public abstract class ScriptTest
{
    protected RedisTestContext Redis { get; private set; } = null!;
    protected IDatabase Db { get; private set; } = null!;

    protected async Task Start()
    {
        Redis = await RedisTestContext.Create();
        Db = await Redis.Database();
    }

    protected RedisKey Key(string name) => Redis.Key(name);

    internal Task<RedisResult> Run(RedisScript script, RedisKey[] keys, params RedisValue[] arguments) => script.Evaluate(Db, keys, arguments);

    /// <summary>The server's time in Unix ms.</summary>
    protected async Task<long> ServerMs()
    {
        var time = (RedisResult[])(await Db.ExecuteAsync("TIME"))!;
        return (long)time[0] * 1000 + (long)time[1] / 1000;
    }
}
