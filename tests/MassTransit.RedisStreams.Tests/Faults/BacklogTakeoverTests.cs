namespace MassTransit.RedisStreams.Tests.Faults;

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using Redis;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;


/// <summary>
/// Two instances share a queue with a long backlog; one is killed, frozen for longer than its name lease, or cut off from
/// Redis. The other takes over its entries ahead of the backlog — as RabbitMQ puts a dead consumer's unacknowledged messages
/// back at the head of the queue — so the first of them is handled within 5 s however long the backlog is; one that comes
/// back finds them gone and starts none of them again.
/// </summary>
public class BacklogTakeoverTests
{
    const int Concurrency = 4;
    const int HandlerMs = 100;
    const int Sent = 500;
    const int MinBacklog = 300;
    static readonly TimeSpan TakeoverLimit = TimeSpan.FromSeconds(5);
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    readonly ITestOutputHelper _output;

    public BacklogTakeoverTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public async Task The_entries_of_a_killed_instance_are_handled_ahead_of_the_backlog()
    {
        var redis = await RedisTestContext.Create();
        await using var run = await Run.Start(redis, _output);

        var (cutAt, orphaned) = await run.Disrupt(() =>
        {
            run.Victim.Kill();
            return Task.CompletedTask;
        });

        await run.AssertTakenOverInTime(cutAt, orphaned);
        await run.AssertAllHandled();
    }

    [Fact]
    public async Task The_entries_of_an_instance_frozen_longer_than_its_lease_are_handled_ahead_of_the_backlog_and_it_starts_none_of_them_again()
    {
        var redis = await RedisTestContext.Create();
        await using var run = await Run.Start(redis, _output);

        var (cutAt, orphaned) = await run.Disrupt(() => run.Victim.Freeze());

        await run.AssertTakenOverInTime(cutAt, orphaned);

        // Frozen for 8 s in all, then it goes on where it stood.
        var frozenFor = TimeSpan.FromSeconds(8) - (DateTimeOffset.UtcNow - DateTimeOffset.FromUnixTimeMilliseconds(cutAt));
        if (frozenFor > TimeSpan.Zero)
            await Task.Delay(frozenFor);
        await run.Victim.Thaw();
        var thawedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        await run.AssertAllHandled();
        await run.AssertComebackHarmless(orphaned, thawedAt);
    }

    /// <summary>
    /// The survivor is slow to claim — one handler of 1.5 s, room for one entry — so it is still claiming the frozen instance's
    /// entries when that instance comes back and goes on reading. What the instance touches after its return (the entries it
    /// checked and kept, the new ones it reads) is its own again: the survivor claims none of them.
    /// </summary>
    [Fact]
    public async Task An_instance_that_comes_back_while_a_slow_survivor_still_claims_its_entries_keeps_what_it_touches_after_its_return()
    {
        var redis = await RedisTestContext.Create();
        await using var run = await Run.Start(redis, _output, survivorSettings: [("prefetch", 1), ("concurrency", 1), ("handler-ms", 1500)]);

        var (cutAt, orphaned) = await run.Disrupt(() => run.Victim.Freeze(), minBacklog: 1);

        // Frozen for 6 s: the lease runs out after 3 s, and the survivor has begun to claim when the instance goes on.
        await Task.Delay(TimeSpan.FromSeconds(6) - (DateTimeOffset.UtcNow - DateTimeOffset.FromUnixTimeMilliseconds(cutAt)));
        await run.Victim.Thaw();
        var thawedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        await run.AssertAllHandled();
        await run.AssertComebackHarmless(orphaned, thawedAt);
    }

    [NetworkNamespaceFact]
    public async Task The_entries_of_an_instance_cut_off_from_Redis_are_handled_ahead_of_the_backlog_and_it_starts_none_of_them_again()
    {
        using var network = NetworkNamespace.TryCreate(out var reason) ?? throw new InvalidOperationException(reason);

        using var server = RedisServerProcess.Start(appendOnly: false, extraConfig: $"bind 127.0.0.1 {network.HostAddress}");
        var redis = RedisTestContext.Create(server.ConnectionString, TestRedis.NewKeyPrefix());
        var outside = $"{network.HostAddress}:{server.Port}";
        await using var run = await Run.Start(redis, _output, network, outside);

        var (cutAt, orphaned) = await run.Disrupt(() =>
        {
            network.Cut();
            return Task.CompletedTask;
        });

        try
        {
            await run.AssertTakenOverInTime(cutAt, orphaned);

            var cutFor = TimeSpan.FromSeconds(10) - (DateTimeOffset.UtcNow - DateTimeOffset.FromUnixTimeMilliseconds(cutAt));
            if (cutFor > TimeSpan.Zero)
                await Task.Delay(cutFor);
        }
        finally
        {
            network.Restore();
        }

        var restoredAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await run.AssertAllHandled();
        await run.AssertComebackHarmless(orphaned, restoredAt);
    }


    sealed class Run :
        IAsyncDisposable
    {
        readonly IDatabase _db;
        readonly ITestOutputHelper _output;
        readonly Proof _proof;
        readonly RedisTestContext _redis;
        long _cutAt;

        Run(RedisTestContext redis, IDatabase db, ITestOutputHelper output, ConsumerHostProcess victim, ConsumerHostProcess survivor)
        {
            _redis = redis;
            _db = db;
            _output = output;
            _proof = new Proof(db, redis.KeyPrefix);
            Victim = victim;
            Survivor = survivor;
        }

        public ConsumerHostProcess Victim { get; }
        public ConsumerHostProcess Survivor { get; }

        /// <summary>The two instances, reading ahead as far as the transport does by default, and a backlog for them.</summary>
        public static async Task<Run> Start(RedisTestContext redis, ITestOutputHelper output, NetworkNamespace? network = null, string? victimRedis = null,
            (string Name, object Value)[]? survivorSettings = null)
        {
            var db = await redis.Database();
            (string, object)[] settings = [("prefetch", 64), ("concurrency", Concurrency), ("handler-ms", HandlerMs)];
            (string Name, object Value)[] survivorOptions = [..settings.Where(x => survivorSettings?.Any(y => y.Name == x.Item1) != true), ..survivorSettings ?? []];

            var victim = await ConsumerHostProcess.Start(network, victimRedis ?? redis.ConnectionString, redis.KeyPrefix,
                [..settings, ("consumer-name", "victim")]);
            var survivor = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix, [..survivorOptions, ("consumer-name", "survivor")]);

            await using (var sender = await WorkSender.Start(redis.ConnectionString, redis.KeyPrefix))
                await sender.Send(0, Sent, parallel: 32);

            return new Run(redis, db, output, victim, survivor);
        }

        RedisKey Queue => _redis.Key("queue:work");

        /// <summary>
        /// Waits until both instances are busy, checks the backlog, notes the victim's pending entries and disrupts it.
        /// </summary>
        /// <param name="disrupt">What happens to the victim.</param>
        /// <param name="minBacklog">How many entries must still be unread, for the takeover to be ahead of them.</param>
        public async Task<(long CutAt, HashSet<string> Orphaned)> Disrupt(Func<Task> disrupt, int minBacklog = MinBacklog)
        {
            Assert.True(await Eventually.True(async () =>
            {
                var handled = await Handlings();
                return handled.Any(x => x.Consumer == "victim") && handled.Any(x => x.Consumer == "survivor");
            }, Timeout), "both instances handle entries");

            var groups = await _db.StreamGroupInfoAsync(Queue);
            var lag = groups.Single(x => x.Name == "work").Lag ?? 0;
            Assert.True(lag >= minBacklog, $"a backlog of at least {minBacklog} unread entries (was {lag})");

            var orphaned = (await _db.StreamPendingMessagesAsync(Queue, "work", 1000, "victim")).Select(x => x.MessageId.ToString()).ToHashSet();
            Assert.NotEmpty(orphaned);

            var cutAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            _cutAt = cutAt;
            await disrupt();

            _output.WriteLine($"disrupted the victim with {orphaned.Count} entries pending and {lag} unread");
            return (cutAt, orphaned);
        }

        /// <summary>The survivor handles the first of the victim's entries within <see cref="TakeoverLimit" />.</summary>
        public async Task AssertTakenOverInTime(long cutAt, HashSet<string> orphaned)
        {
            long? first = null;
            Assert.True(await Eventually.True(async () =>
            {
                first = (await Handlings()).Where(x => x.Consumer == "survivor" && orphaned.Contains(x.EntryId)).Select(x => (long?)x.At).Min();
                return first != null;
            }, Timeout), "the survivor handled one of the victim's entries");

            var takeover = TimeSpan.FromMilliseconds(first!.Value - cutAt);
            var lag = (await _db.StreamGroupInfoAsync(Queue)).Single(x => x.Name == "work").Lag ?? 0;
            _output.WriteLine($"the first of the victim's entries was handled by the survivor {takeover.TotalSeconds:0.00} s after the disruption; "
                + $"{lag} entries were still unread then");

            Assert.True(takeover <= TakeoverLimit, $"taken over within {TakeoverLimit.TotalSeconds} s (took {takeover.TotalSeconds:0.00} s)");
        }

        public async Task AssertAllHandled()
        {
            Assert.True(await _proof.AllHandled(Sent, Timeout), $"every entry handled: {await _proof.Count(Sent)}");
        }

        /// <summary>
        /// Back again, the victim finishes what its handlers had begun, and starts none of the entries it had read but not
        /// begun that were the survivor's by then; and the survivor takes none of what the victim touches after it came back.
        /// An entry it handled just before the disruption, whose acknowledgement did not reach Redis, is handled by the survivor
        /// too: delivery is at least once.
        /// </summary>
        public async Task AssertComebackHarmless(HashSet<string> orphaned, long backAt)
        {
            var handlings = await Handlings();
            var counts = await _proof.Count(Sent);
            var byEntry = handlings.GroupBy(x => x.EntryId).ToList();
            var twice = byEntry.Where(x => x.Count() > 1).ToList();
            var againAfterComeback = twice.Count(x => x.Any(h => h.Consumer == "survivor") && x.Any(h => h.Consumer == "victim" && h.At >= backAt));

            _output.WriteLine($"{counts}; {twice.Count} entries were handled twice, {twice.Count(x => orphaned.Contains(x.Key))} of them pending for the "
                + $"victim at the disruption; {againAfterComeback} of them by the victim after it came back (+{backAt - _cutAt} ms)");
            foreach (var entry in twice)
                _output.WriteLine($"  {entry.Key}{(orphaned.Contains(entry.Key) ? " (orphaned)" : "")}: "
                    + string.Join(", ", entry.Select(x => $"{x.Consumer} at +{x.At - _cutAt} ms")));

            Assert.Equal(0, counts.Lost);
            Assert.True(againAfterComeback <= Concurrency,
                $"after it came back, the victim finished at most the {Concurrency} entries its handlers had begun (finished {againAfterComeback})");
        }

        async Task<List<(string EntryId, long At, string Consumer)>> Handlings()
        {
            var values = await _db.ListRangeAsync(_redis.KeyPrefix + ":proof:handlings");
            return values.Select(x => x.ToString().Split(' ')).Select(x => (x[0], long.Parse(x[1], CultureInfo.InvariantCulture), x[2])).ToList();
        }

        public async ValueTask DisposeAsync()
        {
            Victim.Dispose();
            Survivor.Dispose();
            await Task.CompletedTask;
        }
    }
}
