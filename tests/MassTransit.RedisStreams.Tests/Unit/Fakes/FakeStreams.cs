namespace MassTransit.RedisStreams.Tests.Unit.Fakes;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisStreams.Redis;
using StackExchange.Redis;


/// <summary>
/// An in-memory stand-in for the group reads, pending lists and wake channels of the gateway, for unit tests of the receive
/// path's state and timing only: streams, groups with their last delivered IDs and pending lists, wake flags and subscriptions,
/// by a fake clock. What Redis itself does is proved by the tests against a real server.
/// </summary>
sealed class FakeStreams :
    IGroupReads,
    IPendingLists,
    IWakeChannels
{
    readonly object _lock = new();
    readonly Dictionary<RedisKey, Stream> _streams = new();
    readonly Dictionary<RedisKey, List<Action<RedisKey, WakeReason>>> _subscribers = new();
    readonly TimeProvider _time;
    ulong _lastMs;
    ulong _lastSeq;

    public FakeStreams(TimeProvider time)
    {
        _time = time;
    }

    /// <summary>How many reads of new entries there were, and how many armed the wake flags.</summary>
    public int NewReads;
    public int ArmedReads;
    public int Acknowledged;

    /// <summary>When set, the next call of any read or claim throws it, once.</summary>
    public Exception? FailNext;

    /// <summary>Raised after every read of new entries.</summary>
    public event Action? AfterRead;

    /// <summary>Appends an entry as another program's plain XADD would: nothing wakes the readers.</summary>
    public RedisValue AppendQuietly(RedisKey key) => Append(key, "{}", wake: false);

    /// <summary>Appends an entry as another instance's send would: under a rising ID, waking idle readers whose flag is armed.</summary>
    public RedisValue Append(RedisKey key, string body = "{}", bool wake = true)
    {
        List<Action<RedisKey, WakeReason>>? woken = null;
        RedisValue id;
        lock (_lock)
        {
            var ms = (ulong)_time.GetUtcNow().ToUnixTimeMilliseconds();
            (_lastMs, _lastSeq) = ms > _lastMs ? (ms, 0) : (_lastMs, _lastSeq + 1);
            id = $"{_lastMs}-{_lastSeq}";

            var stream = Get(key);
            stream.Entries.Add(new StreamEntry(id, [new NameValueEntry("body", body)]));
            if (stream.Flag && wake)
            {
                stream.Flag = false;
                woken = _subscribers.TryGetValue(key, out var handlers) ? [..handlers] : null;
            }
        }

        foreach (var handler in woken ?? [])
            handler(key, WakeReason.Entries);

        return id;
    }

    /// <summary>Reads entries for <paramref name="consumer" /> as another instance would, so that they are pending for it.</summary>
    public void ReadAs(RedisKey key, string group, string consumer, int count)
    {
        lock (_lock)
            Read(Get(key), group, consumer, count);
    }

    /// <summary>The pending entries of a group: ID, consumer, delivery count.</summary>
    public List<(RedisValue Id, string Consumer, int DeliveryCount)> PendingOf(RedisKey key, string group)
    {
        lock (_lock)
            return Get(key).Group(group).Pending.OrderBy(x => StreamEntryId.Parse(x.Key)).Select(x => (x.Key, x.Value.Consumer, x.Value.Count)).ToList();
    }

    public Task<bool> CreateGroup(RedisKey stream, string group, RedisValue position)
    {
        lock (_lock)
        {
            var target = Get(stream);
            if (target.Groups.ContainsKey(group))
                return Task.FromResult(false);

            target.Groups[group] = new Group
            {
                LastDelivered = position == "$" && target.Entries.Count > 0 ? StreamEntryId.Parse(target.Entries[^1].Id) : StreamEntryId.Zero
            };
            return Task.FromResult(true);
        }
    }

    public Task<ReadRound> ReadNew(IReadOnlyList<RedisKey> streams, IReadOnlyList<int> counts, string group, string consumer, TimeSpan? armWake)
    {
        lock (_lock)
        {
            Fail();
            NewReads++;
            if (armWake != null)
                ArmedReads++;

            var results = new StreamEntry[streams.Count][];
            for (var i = 0; i < streams.Count; i++)
            {
                var stream = Get(streams[i]);
                if (armWake != null)
                    stream.Flag = true;
                results[i] = counts[i] > 0 ? Read(stream, group, consumer, counts[i]) : [];
            }

            var uniform = counts.All(x => x == counts[0]);
            AfterReadLater();
            return Task.FromResult(new ReadRound(results, uniform));
        }
    }

    void AfterReadLater() => ThreadPool.QueueUserWorkItem(_ => AfterRead?.Invoke());

    public Task<StreamEntry[][]> ReadPending(IReadOnlyList<RedisKey> streams, IReadOnlyList<RedisValue> after, string group, string consumer, int count)
    {
        lock (_lock)
        {
            Fail();
            var results = new StreamEntry[streams.Count][];
            for (var i = 0; i < streams.Count; i++)
            {
                var stream = Get(streams[i]);
                var from = after[i] == "0" ? StreamEntryId.Zero : StreamEntryId.Parse(after[i]);
                results[i] = stream.Group(group).Pending.Where(x => x.Value.Consumer == consumer && StreamEntryId.Parse(x.Key) > from)
                    .OrderBy(x => StreamEntryId.Parse(x.Key)).Take(count)
                    .Select(x => stream.Entries.First(e => e.Id == x.Key)).ToArray();
            }

            return Task.FromResult(results);
        }
    }

    public Task<long> Acknowledge(RedisKey stream, string group, RedisValue[] ids)
    {
        lock (_lock)
        {
            var removed = ids.Count(id => Get(stream).Group(group).Pending.Remove(id));
            Acknowledged += removed;
            return Task.FromResult((long)removed);
        }
    }

    public Task<IdleClaim> ClaimIdle(RedisKey stream, string group, string consumer, TimeSpan minIdle, RedisValue cursor, int count)
    {
        lock (_lock)
        {
            Fail();
            var target = Get(stream);
            var claimed = target.Group(group).Pending.Where(x => Idle(x.Value) >= minIdle).OrderBy(x => StreamEntryId.Parse(x.Key)).Take(count).ToList();
            foreach (var (id, pending) in claimed)
                Deliver(pending, consumer);

            return Task.FromResult(new IdleClaim("0-0", claimed.Select(x => target.Entries.First(e => e.Id == x.Key)).ToArray(), 0));
        }
    }

    public Task<PendingEntry[]> GetPending(RedisKey stream, string group, string consumer, RedisValue first, RedisValue last, int count)
    {
        lock (_lock)
        {
            var (from, to) = (StreamEntryId.Parse(first), StreamEntryId.Parse(last));
            return Task.FromResult(Get(stream).Group(group).Pending
                .Where(x => x.Value.Consumer == consumer && StreamEntryId.Parse(x.Key) >= from && StreamEntryId.Parse(x.Key) <= to)
                .OrderBy(x => StreamEntryId.Parse(x.Key)).Take(count).Select(x => new PendingEntry(x.Key, x.Value.Count)).ToArray());
        }
    }

    public Task<PendingEntry[]> GetIdlePending(RedisKey stream, string group, string consumer, TimeSpan minIdle, int count)
    {
        lock (_lock)
        {
            Fail();
            return Task.FromResult(Get(stream).Group(group).Pending.Where(x => x.Value.Consumer == consumer && Idle(x.Value) >= minIdle)
                .OrderBy(x => StreamEntryId.Parse(x.Key)).Take(count).Select(x => new PendingEntry(x.Key, x.Value.Count)).ToArray());
        }
    }

    public Task<StreamEntry[]> Claim(RedisKey stream, string group, string consumer, TimeSpan minIdle, RedisValue[] ids)
    {
        lock (_lock)
        {
            var target = Get(stream);
            var claimed = new List<StreamEntry>();
            foreach (var id in ids)
            {
                if (target.Group(group).Pending.TryGetValue(id, out var pending) && Idle(pending) >= minIdle)
                {
                    Deliver(pending, consumer);
                    claimed.Add(target.Entries.First(e => e.Id == id));
                }
            }

            return Task.FromResult(claimed.ToArray());
        }
    }

    public Task<RedisValue[]> SetIdleTime(RedisKey stream, string group, string consumer, IReadOnlyList<RedisValue> ids, TimeSpan idle)
    {
        lock (_lock)
        {
            var lost = new List<RedisValue>();
            foreach (var id in ids)
            {
                if (Get(stream).Group(group).Pending.TryGetValue(id, out var pending) && pending.Consumer == consumer)
                    pending.DeliveredAt = _time.GetUtcNow() - idle;
                else
                    lost.Add(id);
            }

            return Task.FromResult(lost.ToArray());
        }
    }

    public Task<string[]> RemoveIdleConsumers(RedisKey stream, string group, TimeSpan minIdle, string? onlyConsumer, string exceptConsumer) =>
        Task.FromResult(Array.Empty<string>());

    public Task<Action<RedisChannel, RedisValue>> Subscribe(RedisKey stream, Action<RedisKey, WakeReason> handler)
    {
        lock (_lock)
        {
            if (!_subscribers.TryGetValue(stream, out var handlers))
                _subscribers[stream] = handlers = [];
            handlers.Add(handler);
        }

        return Task.FromResult<Action<RedisChannel, RedisValue>>((_, _) => { });
    }

    public Task Unsubscribe(RedisKey stream, Action<RedisChannel, RedisValue> subscription) => Task.CompletedTask;

    public string? GetSubscriptions(IEnumerable<RedisKey> streams) => "fake";

    public Task<bool> AnyFlagCleared(IEnumerable<RedisKey> streams) => Task.FromResult(false);

    public Task Announce(RedisKey stream, WakeReason reason)
    {
        List<Action<RedisKey, WakeReason>> handlers;
        lock (_lock)
            handlers = _subscribers.TryGetValue(stream, out var found) ? [..found] : [];

        foreach (var handler in handlers)
            handler(stream, reason);

        return Task.CompletedTask;
    }

    StreamEntry[] Read(Stream stream, string group, string consumer, int count)
    {
        var target = stream.Group(group);
        var read = stream.Entries.Where(x => StreamEntryId.Parse(x.Id) > target.LastDelivered).Take(count).ToArray();
        foreach (var entry in read)
        {
            target.Pending[entry.Id] = new Pending { Consumer = consumer, DeliveredAt = _time.GetUtcNow(), Count = 1 };
            target.LastDelivered = StreamEntryId.Parse(entry.Id);
        }

        return read;
    }

    void Deliver(Pending pending, string consumer)
    {
        pending.Consumer = consumer;
        pending.DeliveredAt = _time.GetUtcNow();
        pending.Count++;
    }

    TimeSpan Idle(Pending pending) => _time.GetUtcNow() - pending.DeliveredAt;

    void Fail()
    {
        if (FailNext is { } failure)
        {
            FailNext = null;
            throw failure;
        }
    }

    Stream Get(RedisKey key)
    {
        if (!_streams.TryGetValue(key, out var stream))
            _streams[key] = stream = new Stream();
        return stream;
    }


    sealed class Stream
    {
        public readonly List<StreamEntry> Entries = [];
        public readonly Dictionary<string, Group> Groups = new();
        public bool Flag;

        public Group Group(string name) => Groups.TryGetValue(name, out var group) ? group : Groups[name] = new Group();
    }


    sealed class Group
    {
        public StreamEntryId LastDelivered;
        public readonly Dictionary<RedisValue, Pending> Pending = new();
    }


    sealed class Pending
    {
        public string Consumer = "";
        public DateTimeOffset DeliveredAt;
        public int Count;
    }
}
