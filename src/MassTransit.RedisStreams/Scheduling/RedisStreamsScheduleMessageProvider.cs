namespace MassTransit.RedisStreams.Scheduling;

using System;
using System.Threading;
using System.Threading.Tasks;
using MassTransit.Scheduling;
using StackExchange.Redis;
using Transport;


/// <summary>
/// The transport's own message scheduler: a scheduled message is a delayed message held in Redis under its scheduling
/// token, appended to its stream when due, and cancelled by taking it out of the delayed set before then.
/// </summary>
sealed class RedisStreamsScheduleMessageProvider :
    IScheduleMessageProvider
{
    readonly Func<RedisStreamsBusContext> _bus;
    readonly ISendEndpointProvider _sendEndpointProvider;

    public RedisStreamsScheduleMessageProvider(Func<RedisStreamsBusContext> bus, ISendEndpointProvider sendEndpointProvider)
    {
        _bus = bus;
        _sendEndpointProvider = sendEndpointProvider;
    }

    public async Task<ScheduledMessage<T>> ScheduleSend<T>(Uri destinationAddress, DateTime scheduledTime, T message, IPipe<SendContext<T>> pipe,
        CancellationToken cancellationToken)
        where T : class
    {
        if (!MessageTypeCache<T>.IsValidMessageType)
            throw new ArgumentException(MessageTypeCache<T>.InvalidMessageTypeReason, nameof(message));

        var schedulePipe = new ScheduleSendPipe<T>(pipe, scheduledTime) { ScheduledMessageId = ScheduleTokenIdCache<T>.GetTokenId(message) };

        var endpoint = await _sendEndpointProvider.GetSendEndpoint(destinationAddress).ConfigureAwait(false);
        await endpoint.Send(message, schedulePipe, cancellationToken).ConfigureAwait(false);

        return new ScheduledMessageHandle<T>(schedulePipe.ScheduledMessageId ?? NewId.NextGuid(), scheduledTime, destinationAddress, message);
    }

    public async Task CancelScheduledSend(Guid tokenId, CancellationToken cancellationToken)
    {
        var bus = _bus();
        var token = tokenId.ToString("D");

        if (await bus.Redis.Delayed.GetStreamOf(token).ConfigureAwait(false) is { } stream)
            await Cancel(bus, stream, token).ConfigureAwait(false);
    }

    public async Task CancelScheduledSend(Uri destinationAddress, Guid tokenId, CancellationToken cancellationToken)
    {
        var bus = _bus();
        var token = tokenId.ToString("D");
        var address = RedisStreamsEndpointAddress.Parse(bus.HostAddress, destinationAddress);

        // An exchange address held its message in the queue's stream or the type's, depending on the message.
        if (await Cancel(bus, address.Kind == AddressKind.Topic ? address.GetEventStreamKey() : address.GetQueueKey(), token).ConfigureAwait(false)
            || address.Kind != AddressKind.Exchange)
            return;

        await Cancel(bus, address.GetEventStreamKey(), token).ConfigureAwait(false);
    }

    static async Task<bool> Cancel(RedisStreamsBusContext bus, RedisKey stream, string token)
    {
        var cancelled = await bus.Redis.Delayed.Cancel(stream, token).ConfigureAwait(false);
        if (cancelled)
            LogContext.Debug?.Log("Cancelled the scheduled message {Token} for {Stream}", token, stream);

        return cancelled;
    }
}
