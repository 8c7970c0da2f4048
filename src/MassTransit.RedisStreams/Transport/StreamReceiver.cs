namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading.Tasks;
using Internals;
using Redis;
using StackExchange.Redis;
using Transports;


/// <summary>
/// Receives for one endpoint: the <see cref="ReadLoop" /> fills the <see cref="EntryBuffer" /> (at most PrefetchCount
/// entries), ConcurrentMessageLimit workers take the entries in order and dispatch them through MassTransit's receive pipe,
/// and each entry is acknowledged (batched XACK) when its dispatch completes. Beside the loop, the
/// <see cref="PendingEntryKeeper" /> keeps held entries alive and claims those of crashed instances, and
/// <see cref="UndeliverableEntries" /> keeps what is not a deliverable message away from MassTransit.
/// </summary>
sealed class StreamReceiver :
    ConsumerAgent<EntryKey>,
    ReceiveTransportHandle
{
    readonly EntryBuffer _buffer;
    readonly RedisStreamsBusContext _bus;
    readonly int _concurrency;
    readonly RedisStreamsReceiveEndpointContext _context;
    readonly PendingEntryKeeper _keeper;
    readonly ReadLoop _readLoop;
    readonly GroupReader _reader;
    readonly PendingEntries _pending;
    readonly EndpointStreams _streams;
    readonly UndeliverableEntries _undeliverable;
    readonly ConcurrentQueue<Delivery> _unstarted;

    public StreamReceiver(RedisStreamsReceiveEndpointContext context)
        : base(context)
    {
        _context = context;
        _bus = context.BusContext;

        var prefetch = Math.Max(1, context.PrefetchCount);
        _concurrency = Math.Max(1, Math.Min(context.ConcurrentMessageLimit ?? prefetch, prefetch));

        _buffer = new EntryBuffer(prefetch, _bus.Settings.IdlePollInterval);
        _unstarted = new ConcurrentQueue<Delivery>();

        _streams = new EndpointStreams(context, OnWake, Stopping);
        _pending = new PendingEntries(_bus, _streams, _buffer);
        _keeper = new PendingEntryKeeper(_bus, _streams, _pending, Stopping);
        _reader = new GroupReader(_bus, _streams, _buffer);
        _readLoop = new ReadLoop(context, _streams, _buffer, _pending, _reader, Stopping);
        _undeliverable = new UndeliverableEntries(context);

        TrySetConsumeTask(Task.Run(Run));
    }

    Task ReceiveTransportHandle.Stop(System.Threading.CancellationToken cancellationToken)
    {
        return this.Stop("Stop Receive Transport", cancellationToken);
    }

    async Task Run()
    {
        _bus.Connection.ConnectionChanged += OnConnectionChanged;
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
                    keeper ??= Task.Run(_keeper.Run);
                    SetReady();
                }).ConfigureAwait(false);
            }
            finally
            {
                _buffer.Complete();

                await Task.WhenAll(workers).ConfigureAwait(false);
                if (keeper != null)
                    await keeper.ConfigureAwait(false);

                await ReleaseUnstarted().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (IsStopping)
        {
        }
        finally
        {
            _bus.Connection.ConnectionChanged -= OnConnectionChanged;
        }
    }

    async Task Work()
    {
        var deliveries = _buffer.Deliveries;

        while (await deliveries.WaitToReadAsync().ConfigureAwait(false))
        {
            while (deliveries.TryRead(out var delivery))
            {
                if (IsStopping)
                {
                    // Buffered but never started: handed back for other instances once the workers are done.
                    _unstarted.Enqueue(delivery);
                    continue;
                }

                try
                {
                    await Deliver(delivery).ConfigureAwait(false);
                }
                catch (Exception exception)
                {
                    // A worker never ends before the endpoint stops: the entry stays pending and is claimed and tried again.
                    LogContext.Error?.Log(exception, "Delivering entry {EntryId} of {Stream} failed", delivery.Entry.Id, delivery.Stream.Key);
                }
            }
        }
    }

    async Task Deliver(Delivery delivery)
    {
        try
        {
            if (await _undeliverable.TryDivert(delivery.Stream, delivery.Entry, delivery.DeliveryCount).ConfigureAwait(false))
                return;

            LogContext.Current = _context.LogContext;

            var context = new RedisStreamsReceiveContext(delivery.Entry, delivery.Stream, _context, delivery.DeliveryCount);
            try
            {
                await Dispatch(delivery.Key, context, context).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                context.LogTransportFaulted(exception);
            }
            finally
            {
                context.Dispose();
            }
        }
        finally
        {
            _buffer.Done(delivery);
        }
    }

    /// <summary>
    /// Hands the entries read but never started — queued, or held back by the reader — to the other instances (see
    /// <see cref="PendingEntries.Release" />).
    /// </summary>
    async Task ReleaseUnstarted()
    {
        var entries = new List<EntryKey>();
        foreach (var delivery in _reader.TakeHeldBack())
            _unstarted.Enqueue(delivery);

        while (_unstarted.TryDequeue(out var delivery))
        {
            _buffer.Done(delivery);
            entries.Add(delivery.Key);
        }

        await _pending.Release(entries).ConfigureAwait(false);
    }

    void OnWake(RedisKey stream, WakeReason reason)
    {
        switch (reason)
        {
            case WakeReason.Entries:
                _readLoop.OnEntriesAppended();
                break;

            case WakeReason.Topology:
                _readLoop.OnTopologyChanged();
                break;

            case WakeReason.Claim:
                _keeper.RequestClaim();
                break;
        }
    }

    void OnConnectionChanged(bool connected)
    {
        _readLoop.OnConnectionChanged();
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
