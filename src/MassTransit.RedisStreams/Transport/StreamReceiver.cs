namespace MassTransit.RedisStreams.Transport;

using System;
using System.Threading;
using System.Linq;
using System.Threading.Tasks;
using Configuration;
using Diagnostics;
using Internals;
using Redis;
using Support;
using Transports;


/// <summary>
/// Receives for one endpoint: the <see cref="ReadLoop" /> fills the <see cref="EntryBuffer" /> (at most PrefetchCount
/// entries), ConcurrentMessageLimit workers take the entries in order — claimed ones first — and dispatch them through
/// MassTransit's receive pipe, and each entry is acknowledged through the <see cref="Acknowledger" /> when its dispatch
/// completes. Beside the loop, the <see cref="PendingEntryKeeper" /> keeps held entries alive and claims those of crashed
/// instances, and <see cref="UndeliverableEntries" /> keeps what is not a deliverable message away from MassTransit.
/// </summary>
sealed class StreamReceiver :
    ConsumerAgent<EntryKey>,
    ReceiveTransportHandle
{
    /// <summary>MassTransit's own handler concurrency when an endpoint sets no limit: what an application switched to this transport keeps.</summary>
    static readonly int MassTransitDefaultConcurrency = Math.Max(Environment.ProcessorCount * 2, 16);

    readonly Acknowledger _acknowledger;
    readonly EntryBuffer _buffer;
    readonly RedisStreamsBusContext _bus;
    readonly int _concurrency;
    readonly RedisStreamsReceiveEndpointContext _context;
    readonly PendingEntryKeeper _keeper;
    readonly PendingEntries _pending;
    readonly ReadLoop _readLoop;
    readonly EndpointSignals _signals;
    readonly EndpointMonitor _monitor;
    readonly LeaseStanding _standing;
    readonly EndpointStreams _streams;
    readonly UndeliverableEntries _undeliverable;
    readonly KeyOrder? _keyOrder;

    public StreamReceiver(RedisStreamsReceiveEndpointContext context)
        : base(context)
    {
        _context = context;
        _bus = context.BusContext;
        var redis = _bus.Redis;
        var settings = _bus.Settings;
        var time = _bus.Time;

        // PrefetchCount is how many entries the endpoint holds; the handlers that run at once are ConcurrentMessageLimit, or else,
        // as MassTransit has it, the PrefetchCount the application set, never more than PrefetchCount. The transport's own
        // default PrefetchCount reads further ahead than MassTransit's, so that each read and acknowledgement carries more; with
        // it, the handlers stay at MassTransit's default number.
        var prefetch = Math.Max(1, context.PrefetchCount);
        var handlers = context.ConcurrentMessageLimit
            ?? (prefetch == RedisStreamsBusFactoryConfigurator.DefaultPrefetchCount ? MassTransitDefaultConcurrency : prefetch);
        _concurrency = Math.Max(1, Math.Min(handlers, prefetch));

        _standing = _bus.Identity.Standing;
        _signals = new EndpointSignals();
        _buffer = new EntryBuffer(prefetch, _signals.RequestDeadClaim);
        _streams = new EndpointStreams(context, _signals.OnWake);
        _acknowledger = new Acknowledger(redis.Groups, context.QueueName, _buffer, Stopping);
        _pending = new PendingEntries(redis.Groups, redis.Pending, redis.Wake, _streams, _buffer, _acknowledger, _standing,
            () => _bus.Identity.CurrentName, context.ClaimTimeout);
        _keeper = new PendingEntryKeeper(_pending, _streams, _buffer, _signals, context.ClaimTimeout, settings.DeadConsumerTimeout, time, Stopping);
        var reader = new GroupReader(redis.Groups, _streams, _buffer, _standing, () => _bus.ConsumerName);
        _readLoop = new ReadLoop(context, new ReadLoopSettings(settings.IdlePollInterval, context.Temporary, settings.TemporaryStreamExpiry), _streams,
            _buffer, _pending, reader, _signals, time, Stopping, _bus.Readers);
        _undeliverable = new UndeliverableEntries(context, _acknowledger);

        // With handlers side by side, the entries of one partition key still run one after the other, in order.
        _keyOrder = _concurrency > 1 ? new KeyOrder(redis.Keys) : null;
        _monitor = new EndpointMonitor(context.QueueName, () => _streams.Streams.Select(x => x.Key), () => _buffer.Count, context.DegradedLagThreshold,
            context.DegradedPendingAgeThreshold, time);

        TrySetConsumeTask(Task.Run(Run));
    }

    Task ReceiveTransportHandle.Stop(System.Threading.CancellationToken cancellationToken)
    {
        return this.Stop("Stop Receive Transport", cancellationToken);
    }

    async Task Run()
    {
        _bus.Connection.ConnectionChanged += OnConnectionChanged;
        _standing.Lapsed += _signals.OnLapsed;
        _bus.Identity.ConsumersDied += _keeper.OnConsumersDied;
        _bus.Endpoints.Add(_monitor);
        try
        {
            await _context.DependenciesReady.OrCanceled(Stopping).ConfigureAwait(false);

            var workers = new Task[_concurrency];
            for (var i = 0; i < workers.Length; i++)
                workers[i] = Task.Run(Work);

            Task? keeper = null;
            try
            {
                await _readLoop.Run(() =>
                {
                    keeper ??= Task.Run(() => _keeper.Run(_bus.Identity.RecentDeaths));
                    SetReady();
                }).ConfigureAwait(false);
            }
            finally
            {
                _buffer.Complete();

                await Task.WhenAll(workers).ConfigureAwait(false);
                if (keeper != null)
                    await keeper.ConfigureAwait(false);

                await _acknowledger.WhenIdle().ConfigureAwait(false);

                await ReleaseUnstarted().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (IsStopping)
        {
        }
        finally
        {
            _bus.Endpoints.Remove(_monitor);
            _bus.Identity.ConsumersDied -= _keeper.OnConsumersDied;
            _standing.Lapsed -= _signals.OnLapsed;
            _bus.Connection.ConnectionChanged -= OnConnectionChanged;
        }
    }

    async Task Work()
    {
        while (!IsStopping)
        {
            var (taken, before, turn) = _keyOrder == null ? (await _buffer.Take().ConfigureAwait(false), Task.CompletedTask, null)
                : _keyOrder.AppliesTo(_streams.Streams) ? await _keyOrder.Take(_buffer).ConfigureAwait(false)
                : _keyOrder.EnterTaken(await _buffer.Take().ConfigureAwait(false));
            if (taken is not { } delivery)
                return;

            try
            {
                LatencyTrace.Mark(LatencyStage.Taken);
                if (!before.IsCompleted)
                    await before.ConfigureAwait(false);

                // While the lease does not stand, nothing is started; after a lapse, an entry of an earlier epoch is checked first
                // (see IsStillOwn).
                var mayStartUnchecked = _standing.MayStartUnchecked(delivery.Epoch);
                if (!mayStartUnchecked)
                {
                    await WhenStandingOrStopping().ConfigureAwait(false);
                    mayStartUnchecked = _standing.MayStartUnchecked(delivery.Epoch);
                }

                // Buffered but never started when the endpoint stops: handed back for other instances once the workers are done.
                if (IsStopping)
                {
                    _buffer.Requeue(delivery);
                    return;
                }

                await Deliver(delivery, mayStartUnchecked).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                // A worker never ends before the endpoint stops: the entry stays pending and is claimed and tried again.
                LogContext.Error?.Log(exception, "Delivering entry {EntryId} of {Stream} failed", delivery.Entry.Id, delivery.Stream.Key);
            }
            finally
            {
                if (turn != null)
                    _keyOrder!.Exit(turn);
            }
        }
    }

    async Task Deliver(Delivery delivery, bool mayStartUnchecked)
    {
        var completed = false;
        try
        {
            if (!mayStartUnchecked && !await IsStillOwn(delivery).ConfigureAwait(false))
                return;

            if (await _undeliverable.TryDivert(delivery.Stream, delivery.Entry, delivery.DeliveryCount).ConfigureAwait(false))
                return;

            LogContext.Current = _context.LogContext;

            var context = new RedisStreamsReceiveContext(delivery.Entry, delivery.Stream, _context, delivery.DeliveryCount);
            try
            {
                LatencyTrace.Mark(LatencyStage.Dispatching);
                await Dispatch(delivery.Key, context, context).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                context.LogTransportFaulted(exception);
            }
            finally
            {
                completed = context.Completed;
                context.Dispose();
            }
        }
        finally
        {
            // A completed entry stays held until its XACK has succeeded; any other is done now (it stays pending in Redis).
            if (completed)
                _acknowledger.AcknowledgeThenRelease(delivery);
            else
                _buffer.Done(delivery);
        }
    }

    /// <summary>
    /// An entry read before this instance's lease may have lapsed — it stood still, or could not reach Redis, for longer than a
    /// lease — may have been claimed by another instance meanwhile: it is started only if it is still this consumer's, which
    /// is asked of Redis (waiting as long as Redis cannot answer). While the lease does not stand, nothing is started until a
    /// renewal succeeds: only then do the others know this instance lives (see <see cref="LeaseStanding" />); the worker
    /// waits for that before it asks. Any other entry is started at once, without asking.
    /// </summary>
    async Task<bool> IsStillOwn(Delivery delivery)
    {
        var delays = new RetryDelays();
        while (true)
        {
            try
            {
                if (await _pending.IsStillOwn(delivery).ConfigureAwait(false))
                    return true;

                LogContext.Debug?.Log("Entry {EntryId} of {Stream} was claimed by another instance while this one stood still; not started here",
                    delivery.Entry.Id, delivery.Stream.Key);
                return false;
            }
            catch (Exception exception) when (TransientFailures.IsRedisFailure(exception) && !IsStopping)
            {
                await Task.Delay(delays.Next(exception), _bus.Time, Stopping).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Waits for a renewal of the lease, unless the endpoint stops first.</summary>
    async Task WhenStandingOrStopping()
    {
        try
        {
            await _standing.WhenStanding(Stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (IsStopping)
        {
        }
    }

    /// <summary>
    /// Hands the entries read but never started — queued, or held back by the reader — to the other instances (see
    /// <see cref="PendingEntries.Release" />).
    /// </summary>
    async Task ReleaseUnstarted()
    {
        var unstarted = _buffer.TakeUnstarted();
        foreach (var delivery in unstarted)
            _buffer.Done(delivery);

        await _pending.Release(unstarted.Select(x => x.Key).ToList()).ConfigureAwait(false);
    }

    void OnConnectionChanged(bool connected)
    {
        _signals.OnConnectionChanged();
        _buffer.SignalCapacity();
    }

    protected override async Task ActiveAndActualAgentsCompleted(StopContext context)
    {
        await base.ActiveAndActualAgentsCompleted(context).ConfigureAwait(false);

        await _streams.Teardown().ConfigureAwait(false);

        await _context.TransportObservers.NotifyCompleted(_context.InputAddress, this).ConfigureAwait(false);

        _context.LogConsumerCompleted(DeliveryCount, ConcurrentDeliveryCount);
    }
}
