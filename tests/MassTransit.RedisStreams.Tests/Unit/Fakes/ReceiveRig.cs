namespace MassTransit.RedisStreams.Tests.Unit.Fakes;

using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using RedisStreams.Redis;
using RedisStreams.Transport;
using StackExchange.Redis;


/// <summary>
/// One endpoint's receive path — read loop, reader, buffer, pending entries, keeper, signals — assembled as the receiver does,
/// on <see cref="FakeStreams" /> and a <see cref="FakeTimeProvider" />, without workers: a test takes from the buffer itself.
/// </summary>
sealed class ReceiveRig :
    IEndpointStatus,
    IEndpointStreams,
    IAsyncDisposable
{
    public static readonly TimeSpan IdlePollInterval = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan ClaimTimeout = TimeSpan.FromSeconds(30);

    readonly CancellationTokenSource _stopping = new();
    readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    Task? _loop;
    Task? _keeper;

    public ReceiveRig(int prefetch = 8, int streams = 1)
    {
        Time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        Redis = new FakeStreams(Time);
        Keys = Enumerable.Range(0, streams).Select(i => (RedisKey)(i == 0 ? "queue:orders" : "events:Type" + i)).ToArray();
        Streams = Keys.Select((x, i) => new ReceiveStream(x, i == 0)).ToArray();
        Signals = new EndpointSignals();
        Buffer = new EntryBuffer(prefetch, Signals.RequestDeadClaim);
        Standing = new LeaseStanding(Time, TimeSpan.FromSeconds(2));
        Standing.Renewed(Time.GetTimestamp(), lapsedInRedis: false);

        var acknowledger = new Acknowledger(Redis, Group, Buffer, _stopping.Token);
        Pending = new PendingEntries(Redis, Redis, Redis, this, Buffer, acknowledger, Standing, () => Consumer, ClaimTimeout);
        Keeper = new PendingEntryKeeper(Pending, this, Buffer, Signals, ClaimTimeout, TimeSpan.FromHours(1), Time, _stopping.Token);
        var reader = new GroupReader(Redis, this, Buffer, Standing, () => Consumer);
        Loop = new ReadLoop(this, new ReadLoopSettings(IdlePollInterval, false, TimeSpan.FromMinutes(5)), this, Buffer, Pending, reader, Signals, Time,
            _stopping.Token);
    }

    public const string Consumer = "me";
    public const string Group = "orders";

    public FakeTimeProvider Time { get; }
    public FakeStreams Redis { get; }
    public RedisKey[] Keys { get; }
    public EndpointSignals Signals { get; }
    public EntryBuffer Buffer { get; }
    public LeaseStanding Standing { get; }
    public PendingEntries Pending { get; }
    public PendingEntryKeeper Keeper { get; }
    public ReadLoop Loop { get; }

    /// <summary>What the loop reported: "ready", "reading", "faulted".</summary>
    public ConcurrentQueue<string> Reports { get; } = new();

    public int Setups;

    /// <summary>Starts the read loop, and the keeper once the loop reads.</summary>
    public void Start()
    {
        _connected.TrySetResult();
        _loop = Task.Run(() => Loop.Run(() => _keeper ??= Task.Run(() => Keeper.Run([]))));
    }

    /// <summary>Starts the keeper alone, for tests of claims without a read loop.</summary>
    public async Task StartKeeper()
    {
        await Setup();
        _keeper = Task.Run(() => Keeper.Run([]));
    }

    /// <summary>The next entry a worker would take, within a few seconds of real time.</summary>
    public async Task<Delivery> Take()
    {
        Delivery? delivery;
        try
        {
            delivery = await Buffer.Take().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"reads {Redis.NewReads} armed {Redis.ArmedReads} count {Buffer.Count} heldback {Buffer.HeldBackCount} free {Buffer.FreeForReading} "
                + string.Join(";", Streams.Select(x => $"{x.Key} {x.UnreadAfter} {x.Drained}")) + " reports " + string.Join(",", Reports));
        }
        return delivery ?? throw new InvalidOperationException("The buffer completed.");
    }

    Uri IEndpointStatus.InputAddress => new("redis://localhost/orders");

    Task IEndpointStatus.Connected => _connected.Task;

    Task IEndpointStatus.NotifyReady(bool reading)
    {
        Reports.Enqueue(reading ? "reading" : "ready");
        return Task.CompletedTask;
    }

    Task IEndpointStatus.NotifyFaulted(Exception exception)
    {
        Reports.Enqueue("faulted");
        return Task.CompletedTask;
    }

    ReceiveStream[] IEndpointStreams.Streams => Streams;

    public ReceiveStream[] Streams { get; }

    string IEndpointStreams.Group => Group;

    public async Task Setup()
    {
        Interlocked.Increment(ref Setups);
        foreach (var key in Keys)
        {
            await Redis.CreateGroup(key, Group, "0");
            await Redis.Subscribe(key, Signals.OnWake);
        }
    }

    string? IEndpointStreams.WakeSubscriptions => "fake";

    Task<bool> IEndpointStreams.AnyWakeFlagCleared() => Task.FromResult(false);

    Task IEndpointStreams.RenewExpiry() => Task.CompletedTask;

    Task IEndpointStreams.Ping() => Task.CompletedTask;

    Task IEndpointStreams.RemoveDeadConsumers() => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        Buffer.Complete();
        foreach (var task in new[] { _loop, _keeper })
        {
            try
            {
                if (task != null)
                    await task.WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stopping.Dispose();
    }
}
