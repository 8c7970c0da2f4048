namespace MassTransit.RedisStreams.Transport;

using System;
using System.Threading;
using System.Threading.Tasks;
using Context;
using Middleware;
using StackExchange.Redis;
using Transports;


/// <summary>
/// Sends to one stream: each message becomes one entry appended with XADD. Concurrent sends are not serialized here;
/// StackExchange.Redis pipelines them on the shared connection.
/// </summary>
sealed class RedisStreamsSendTransportContext :
    BaseSendTransportContext,
    SendTransportContext<PipeContext>
{
    readonly RedisStreamsEndpointAddress _address;
    readonly RedisStreamsBroker _broker;
    readonly RedisKey _stream;

    public RedisStreamsSendTransportContext(RedisStreamsBroker broker, ReceiveEndpointContext receiveEndpointContext, RedisStreamsEndpointAddress address)
        : base(broker.HostConfiguration, receiveEndpointContext.Serialization)
    {
        _broker = broker;
        _address = address;
        _stream = address.GetStreamKey();
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

        var arguments = EntryWriter.Write(context);

        var size = EntryWriter.GetSize(arguments);
        if (size > _broker.Settings.MaxMessageSize)
        {
            throw new TransportException(_address,
                $"The message is {size} bytes, more than the MaxMessageSize of {_broker.Settings.MaxMessageSize} bytes; send large payloads "
                + "with MassTransit's MessageData, or raise RedisStreams:MaxMessageSize.");
        }

        var id = await SendRetry.Run(() => _broker.Client.Append(_stream, arguments, onlyIfStreamExists: _address.Temporary),
            _broker.Settings.SendTimeout, _stream.ToString(), context.CancellationToken).ConfigureAwait(false);

        if (id == null)
        {
            // A temporary endpoint's stream is gone once its owner stopped or died; a reply to it has no one to read it.
            LogContext.Debug?.Log("Not sent, the temporary stream no longer exists: {Address} {MessageId}", _address, sendContext.MessageId);
        }
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
