namespace MassTransit.RedisStreams.Redis;

using System;
using System.IO;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// A Lua script of the transport: a <c>.lua</c> file under <c>Redis/Scripts/</c>, embedded in the assembly and read once.
/// StackExchange.Redis sends it with EVALSHA once a server knows it, and with EVAL (which loads it) the first time or after
/// NOSCRIPT, so a restarted server, a failover or a new cluster node costs one EVAL.
/// </summary>
sealed class RedisScript
{
    RedisScript(string name, string text)
    {
        Name = name;
        Text = text;
    }

    /// <summary>The file name without <c>.lua</c>.</summary>
    public string Name { get; }

    /// <summary>The script's source.</summary>
    public string Text { get; }

    public static readonly RedisScript Append = Load("append");
    public static readonly RedisScript Schedule = Load("schedule");
    public static readonly RedisScript CancelScheduled = Load("cancel-scheduled");
    public static readonly RedisScript SetIdleTime = Load("set-idle-time");
    public static readonly RedisScript RemoveConsumers = Load("remove-consumers");
    public static readonly RedisScript Trim = Load("trim");
    public static readonly RedisScript ArchiveMark = Load("archive-mark");
    public static readonly RedisScript ExclusiveLease = Load("exclusive-lease");
    public static readonly RedisScript ConsumerLease = Load("consumer-lease");
    public static readonly RedisScript MigrateKey = Load("migrate-key");
    public static readonly RedisScript HoldHostRecords = Load("hold-host-records");
    public static readonly RedisScript RemoveHostRecords = Load("remove-host-records");
    public static readonly RedisScript ForgetDelayedStream = Load("forget-delayed-stream");

    /// <summary>Runs the script (EVALSHA, or EVAL when the server does not know it yet).</summary>
    /// <seealso href="https://redis.io/commands/evalsha" />
    public Task<RedisResult> Evaluate(IDatabaseAsync database, RedisKey[] keys, RedisValue[] arguments) =>
        database.ScriptEvaluateAsync(Text, keys, arguments);

    /// <summary>Runs the script and waits for it: for the one caller that must not depend on the thread pool.</summary>
    public RedisResult EvaluateBlocking(IDatabase database, RedisKey[] keys, RedisValue[] arguments) =>
        database.ScriptEvaluate(Text, keys, arguments);

    static RedisScript Load(string name)
    {
        var resource = $"MassTransit.RedisStreams.Redis.Scripts.{name}.lua";
        using var stream = typeof(RedisScript).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The script {resource} is not embedded in {typeof(RedisScript).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);

        return new RedisScript(name, reader.ReadToEnd());
    }

    public override string ToString() => Name + ".lua";
}
