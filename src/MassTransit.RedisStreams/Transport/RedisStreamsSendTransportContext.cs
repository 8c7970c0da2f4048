namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Context;
using Middleware;
using Redis;
using StackExchange.Redis;
using Support;
using Transports;


/// <summary>
/// Sends to one address: each message becomes one entry appended with XADD. Concurrent sends are not serialized here;
/// StackExchange.Redis pipelines them on the shared connection.
/// </summary>
sealed class RedisStreamsSendTransportContext :
    BaseSendTransportContext,
    SendTransportContext<PipeContext>
{
    readonly RedisStreamsEndpointAddress _address;
    readonly RedisStreamsBusContext _bus;
    readonly RedisStreamsReceiveEndpointContext _context;
    readonly ConcurrentDictionary<Type, bool> _exchangeIsImplementedType;
    readonly RedisKey _stream;
    readonly RedisKey _eventStream;

    /// <summary>The message type whose publish topology is known to be declared for this topic address.</summary>
    volatile Type? _declaredType;

    public RedisStreamsSendTransportContext(RedisStreamsBusContext bus, RedisStreamsReceiveEndpointContext context, RedisStreamsEndpointAddress address)
        : base(bus.HostConfiguration, context.Serialization)
    {
        _bus = bus;
        _context = context;
        _address = address;
        _stream = address.GetStreamKey();
        _eventStream = address.GetEventStreamKey();
        _exchangeIsImplementedType = new ConcurrentDictionary<Type, bool>();
    }

    public override string EntityName => _address.Name;
    public override string ActivitySystem => "redis";

    public override async Task<SendContext<T>> CreateSendContext<T>(T message, IPipe<SendContext<T>> pipe, CancellationToken cancellationToken)
    {
        var sendContext = new MessageSendContext<T>(message, cancellationToken);

        await pipe.Send(sendContext).ConfigureAwait(false);

        return sendContext;
    }

    public Task<SendContext<T>> CreateSendContext<T>(PipeContext context, T message, IPipe<SendContext<T>> pipe, CancellationToken cancellationToken)
        where T : class
    {
        return CreateSendContext(message, pipe, cancellationToken);
    }

    public async Task Send<T>(PipeContext transportContext, SendContext<T> sendContext)
        where T : class
    {
        sendContext.CancellationToken.ThrowIfCancellationRequested();

        var context = sendContext as MessageSendContext<T> ?? throw new ArgumentException("Unexpected SendContext<T> type", nameof(sendContext));

        var entry = EntryWriter.Write(context, _bus.Hosts.Own);
        if (entry.Size > _bus.Settings.MaxMessageSize)
        {
            throw new TransportException(_address,
                $"The message is {entry.Size} bytes, more than the MaxMessageSize of {_bus.Settings.MaxMessageSize} bytes; send large payloads "
                + "with MassTransit's MessageData, or raise RedisStreams:MaxMessageSize.");
        }

        var stream = _stream;
        if (_address.Kind == AddressKind.Topic)
        {
            // A publish: once the topology of T is declared, nothing is left to wait for (nor allocated) here.
            var declared = EnsureTopicTopology<T>();
            if (!declared.IsCompletedSuccessfully)
                await declared.ConfigureAwait(false);
        }
        else if (_address.Kind == AddressKind.Exchange)
            stream = await GetExchangeStream<T>().ConfigureAwait(false);

        // An entry in the transport's own format names this process's host record, which is stored before the first one.
        if (EntryWriter.NamesHost(context) && !_bus.Hosts.EnsureOwnStored().IsCompletedSuccessfully)
        {
            await RedisRetry.Send(() => _bus.Hosts.EnsureOwnStored(), _bus.Settings.SendTimeout, _bus.Keys.Hosts, context.CancellationToken)
                .ConfigureAwait(false);
        }

        if (context.Delay is { } delay && delay > TimeSpan.Zero)
        {
            var due = DateTimeOffset.UtcNow + delay;

            // The record must outlive the wait: a message due later than the hold reaches holds it past its due time.
            if (EntryWriter.NamesHost(context))
            {
                await RedisRetry.Send(() => _bus.Hosts.EnsureOwnHeldPast(due), _bus.Settings.SendTimeout, _bus.Keys.Hosts, context.CancellationToken)
                    .ConfigureAwait(false);
            }

            await Schedule(context, entry, stream, due).ConfigureAwait(false);
            return;
        }

        // The stream remembers the message for the duplicate detection window: when a retry below (or an outbox, later) sends
        // it again after an attempt that was written but whose reply was lost, it is not appended twice.
        var appends = _bus.Redis.Appends;
        if (appends.DuplicateDetectionWindow > TimeSpan.Zero && context.MessageId is { } messageId)
            entry.SetDuplicateKey(messageId);

        // The first attempt goes straight to the batcher; only a failed one pays for the retry loop.
        var started = Stopwatch.GetTimestamp();
        string? id;
        try
        {
            id = await appends.Append(stream, entry, _address.Temporary).ConfigureAwait(false);
        }
        catch (Exception exception) when (TransientFailures.IsTransient(exception))
        {
            id = await AppendAgain(appends, stream, entry, started, exception, context.CancellationToken).ConfigureAwait(false);
        }

        if (id == null)
        {
            // A temporary endpoint's stream is gone once its owner stopped or died; a reply to it has no one to read it.
            LogContext.Debug?.Log("Not sent, the temporary stream no longer exists: {Address} {MessageId}", _address, sendContext.MessageId);
        }
        else if (id == StreamAppends.Duplicate)
        {
            Diagnostics.TransportMetrics.CountDuplicateRefused(stream.ToString());
            LogContext.Debug?.Log("Not appended again, {Stream} has it from within the duplicate detection window: {MessageId}", stream,
                sendContext.MessageId);
        }
    }

    /// <summary>Tries an append again through transient failures, until SendTimeout after the first attempt started.</summary>
    Task<string?> AppendAgain(IStreamAppends appends, RedisKey stream, NewEntry entry, long started, Exception failure,
        CancellationToken cancellationToken)
    {
        return RedisRetry.Send(() => appends.Append(stream, entry, _address.Temporary), _bus.Settings.SendTimeout, stream, cancellationToken, started,
            failure);
    }

    /// <summary>
    /// A delayed message is held in Redis until it is due, then appended by whichever instance of the bus gets to it first
    /// (see <see cref="Scheduling.DelayedMessagePump" />). Its token is the scheduling token when the message was scheduled
    /// (so it can be cancelled), otherwise a new one; a retried send reuses it, so the message is held once.
    /// </summary>
    async Task Schedule<T>(MessageSendContext<T> context, Redis.NewEntry entry, RedisKey stream, DateTimeOffset due)
        where T : class
    {
        var cancellable = context.ScheduledMessageId.HasValue;
        var token = (context.ScheduledMessageId ?? NewId.NextGuid()).ToString("D");

        await RedisRetry.Send(() => _bus.Redis.Delayed.Schedule(stream, entry, _address.Temporary, due, token, cancellable), _bus.Settings.SendTimeout,
            stream.ToString(), context.CancellationToken).ConfigureAwait(false);

        Diagnostics.TransportMetrics.CountScheduled(stream.ToString());

        // This instance's pump learns of it at once, not only through the announcement.
        _bus.DelayedMessages?.Enqueue(stream, due);

        LogContext.Debug?.Log("Scheduled {MessageId} for {Stream} at {Due:O} ({Token})", context.MessageId, stream, due, token);
    }

    /// <summary>
    /// Sending to a topic address is publishing: before the first send of a type to its own stream, its publish topology is
    /// recorded, as for a publish (a scheduled publish comes this way). Once that has succeeded for the type, later sends of it
    /// only compare the type.
    /// </summary>
    Task EnsureTopicTopology<T>()
        where T : class
    {
        if (_declaredType == typeof(T))
            return Task.CompletedTask;

        var topology = _context.PublishTopology.GetRedisMessageTopology<T>();
        if (topology.EntityName != _address.Name)
            return Task.CompletedTask;

        var declared = _bus.EnsurePublishTopology(topology);
        if (declared.IsCompletedSuccessfully)
            _declaredType = typeof(T);

        return declared;
    }

    /// <summary>
    /// <c>exchange:X</c> as RabbitMQ delivers it: a message whose type is, or implements, the type with entity name X goes to
    /// that type's event stream, where that type's subscribers read it; any other message goes to the queue of endpoint X.
    /// </summary>
    async Task<RedisKey> GetExchangeStream<T>()
        where T : class
    {
        var topology = _context.PublishTopology.GetRedisMessageTopology<T>();
        if (topology.EntityName == _address.Name)
        {
            // As for a publish: consumers of the types T implements read T's stream, once it is recorded as their source.
            await _bus.EnsurePublishTopology(topology).ConfigureAwait(false);
            return _eventStream;
        }

        var implemented = _exchangeIsImplementedType.GetOrAdd(typeof(T), _ => topology.GetImplementedEntityNames().Contains(_address.Name));

        // For an exchange address, _stream is the queue stream.
        return implemented ? _eventStream : _stream;
    }

    public Task Send(IPipe<PipeContext> pipe, CancellationToken cancellationToken = default)
    {
        return pipe.Send(new SendPipeContext(cancellationToken));
    }

    public void Probe(ProbeContext context)
    {
        context.Add("stream", _stream.ToString());
    }


    sealed class SendPipeContext :
        BasePipeContext
    {
        public SendPipeContext(CancellationToken cancellationToken)
            : base(cancellationToken)
        {
        }
    }
}
