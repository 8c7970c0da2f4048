namespace MassTransit.RedisStreams.Tests.Faults;

using System;
using System.Collections.Concurrent;
using System.Globalization;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Infrastructure;
using Redis;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;


/// <summary>
/// Redis killed and restarted, or every connection cut, while messages flow: receive loops recover by themselves, sends retry
/// within SendTimeout, and every send that returned is delivered.
/// </summary>
public class RedisOutageTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    readonly ITestOutputHelper _output;

    public RedisOutageTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [RedisServerFact]
    public async Task With_appendfsync_always_every_accepted_send_survives_a_kill_of_redis_and_is_delivered_after_restart()
    {
        const int sent = 600;
        using var server = RedisServerProcess.Start(appendFsync: "always");
        var redis = await RedisTestContext.Create(server.ConnectionString);
        var proof = new Proof(await redis.Database(), redis.KeyPrefix);

        using var consumer = await ConsumerHostProcess.Start(server.ConnectionString, redis.KeyPrefix, ("claim-timeout-ms", 2000));
        await using var sender = await WorkSender.Start(server.ConnectionString, redis.KeyPrefix, sendTimeout: TimeSpan.FromSeconds(30));

        var killed = 0;
        await sender.Send(0, sent, parallel: 8, afterEach: async sequence =>
        {
            // Kill redis-server mid-stream, leave it down for a moment, start it again on its AOF.
            if (sequence == sent / 3 && Interlocked.Exchange(ref killed, 1) == 0)
            {
                server.Kill();
                await Task.Delay(TimeSpan.FromSeconds(1));
                server.Restart();
            }
        });

        Assert.Empty(sender.Failed);
        var allHandled = await proof.AllHandled(sent, Timeout);
        var counts = await proof.Count(sent);
        var db = await redis.Database();
        _output.WriteLine($"{counts}; {await db.StreamLengthAsync(redis.Key("queue:work_error"))} in work_error; "
            + $"{await db.StreamLengthAsync(redis.Key("queue:work"))} in work; consumer output:\n{consumer.Output}");

        Assert.True(allHandled, "every accepted send is delivered after the restart");
        Assert.False(consumer.HasExited, "the consumer process recovered by itself");
        Assert.Equal(0, counts.Lost);
    }

    [RedisServerFact]
    public async Task With_appendfsync_everysec_sends_accepted_more_than_two_seconds_before_a_kill_of_redis_survive_it()
    {
        using var server = RedisServerProcess.Start(appendFsync: "everysec");
        var redis = await RedisTestContext.Create(server.ConnectionString);
        await using var sender = await WorkSender.Start(server.ConnectionString, redis.KeyPrefix, sendTimeout: TimeSpan.Zero);
        var endpoint = await sender.GetEndpoint();

        var accepted = new ConcurrentQueue<(int Sequence, long At)>();
        var next = -1;

        async Task SendUntilRedisDies()
        {
            while (true)
            {
                var sequence = Interlocked.Increment(ref next);
                try
                {
                    await endpoint.Send(new TestHost.Work(sequence));
                }
                catch (TransportUnavailableException)
                {
                    return;
                }

                accepted.Enqueue((sequence, Stopwatch.GetTimestamp()));
            }
        }

        var senders = Enumerable.Range(0, 4).Select(_ => Task.Run(SendUntilRedisDies)).ToArray();

        Assert.True(await Eventually.True(() => accepted.Count >= 3000 && accepted.Min(x => x.At) < Stopwatch.GetTimestamp()
            - Stopwatch.Frequency * 3, Timeout), "sending has run for a while");

        var killedAt = Stopwatch.GetTimestamp();
        server.Kill();
        await Task.WhenAll(senders);

        server.Restart();
        var db = await redis.Database();
        var survivors = (await db.StreamRangeAsync(redis.Key("queue:work"), "-", "+"))
            .Select(x => int.Parse(Regex.Match((string)x["body"]!, "\"sequence\"\\s*:\\s*(\\d+)").Groups[1].Value, CultureInfo.InvariantCulture))
            .ToHashSet();

        var acceptedEarlier = accepted.Where(x => Stopwatch.GetElapsedTime(x.At, killedAt) > TimeSpan.FromSeconds(2)).ToList();
        var lostOfAll = accepted.Count(x => !survivors.Contains(x.Sequence));
        _output.WriteLine($"accepted {accepted.Count}, {acceptedEarlier.Count} of them more than 2 s before the kill; "
            + $"{accepted.Count - lostOfAll} of all accepted survived, {lostOfAll} lost");

        Assert.All(acceptedEarlier, x => Assert.Contains(x.Sequence, survivors));
    }

    [RedisServerFact]
    public async Task A_send_during_an_outage_longer_than_the_send_timeout_fails_with_a_clear_exception()
    {
        using var server = RedisServerProcess.Start();
        var redis = await RedisTestContext.Create(server.ConnectionString);
        await using var sender = await WorkSender.Start(server.ConnectionString, redis.KeyPrefix, sendTimeout: TimeSpan.FromSeconds(1));

        server.Kill();
        var stopwatch = Stopwatch.StartNew();
        await sender.Send(0, 1, parallel: 1);

        var (_, exception) = Assert.Single(sender.Failed);
        _output.WriteLine($"{exception.GetType().Name} after {stopwatch.Elapsed.TotalMilliseconds:F0} ms: {exception.Message}");

        Assert.IsType<TransportUnavailableException>(exception);
        Assert.Contains("within the SendTimeout of 00:00:01", exception.Message, StringComparison.Ordinal);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
    }

    [RedisServerFact]
    public async Task Every_connection_cut_while_sending_loses_nothing()
    {
        const int sent = 600;

        // A server of its own: cutting every connection of the shared one would cut the other tests' too.
        using var server = RedisServerProcess.Start();
        var redis = await RedisTestContext.Create(server.ConnectionString);
        var db = await redis.Database();
        var proof = new Proof(db, redis.KeyPrefix);

        using var consumer = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix, ("claim-timeout-ms", 2000));
        await using var sender = await WorkSender.Start(redis.ConnectionString, redis.KeyPrefix, sendTimeout: TimeSpan.FromSeconds(30));

        using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true,abortConnect=false");
        var cuts = 0;
        await sender.Send(0, sent, parallel: 8, afterEach: async sequence =>
        {
            if (sequence % 100 == 50)
            {
                // Cuts every client connection: the sender's, the consumer process's, and this one.
                await admin.GetServers()[0].ExecuteAsync("CLIENT", "KILL", "TYPE", "normal");
                Interlocked.Increment(ref cuts);
            }
        });

        Assert.Empty(sender.Failed);
        var allHandled = await proof.AllHandled(sent, Timeout);
        var counts = await proof.Count(sent);
        _output.WriteLine($"{counts} after {cuts} cuts of every connection; {await db.StreamLengthAsync(redis.Key("queue:work_error"))} in work_error");

        Assert.True(allHandled);
        Assert.False(consumer.HasExited);
        Assert.Equal(0, counts.Lost);
    }
}
