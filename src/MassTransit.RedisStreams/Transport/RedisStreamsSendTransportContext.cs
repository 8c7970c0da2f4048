namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Context;
using Middleware;
using StackExchange.Redis;
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

        if (sendContext.Delay is { } delay && delay > TimeSpan.Zero)
        {
            throw new NotSupportedException(
                $"Delayed delivery is not supported by the Redis Streams transport yet (a delay of {delay} was requested for {_address}).");
        }

        var context = sendContext as MessageSendContext<T> ?? throw new ArgumentException("Unexpected SendContext<T> type", nameof(sendContext));

        var entry = EntryWriter.Write(context);
        if (entry.Size > _bus.Settings.MaxMessageSize)
        {
            throw new TransportException(_address,
                $"The message is {entry.Size} bytes, more than the MaxMessageSize of {_bus.Settings.MaxMessageSize} bytes; send large payloads "
                + "with MassTransit's MessageData, or raise RedisStreams:MaxMessageSize.");
        }

        var stream = _address.Kind == AddressKind.Exchange ? await GetExchangeStream<T>().ConfigureAwait(false) : _stream;

        var id = await SendRetry.Run(() => _bus.Client.Append(stream, entry, onlyIfStreamExists: _address.Temporary),
            _bus.Settings.SendTimeout, stream.ToString(), context.CancellationToken).ConfigureAwait(false);

        if (id == null)
        {
            // A temporary endpoint's stream is gone once its owner stopped or died; a reply to it has no one to read it.
            LogContext.Debug?.Log("Not sent, the temporary stream no longer exists: {Address} {MessageId}", _address, sendContext.MessageId);
        }
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
