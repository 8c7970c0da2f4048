namespace MassTransit.RedisStreams.Transport;

using System;
using System.Net.Mime;
using System.Threading.Tasks;
using MassTransit.Serialization;
using RedisStreams.Serialization;
using StackExchange.Redis;
using Transports;


/// <summary>
/// A received stream entry. It is also the entry's lock: completing it acknowledges the entry (batched XACK); a fault leaves
/// it pending in the group, where it is delivered again.
/// </summary>
sealed class RedisStreamsReceiveContext :
    BaseReceiveContext,
    ReceiveLockContext,
    RedisStreamsMessageContext
{
    readonly StreamEntry _entry;
    readonly string _bodyField;
    readonly ReceiveStream _stream;
    readonly HostRecords _hosts;
    readonly RedisStreamsReceiveEndpointContext _endpoint;
    Uri? _destinationAddress;
    IHeaderProvider? _headerProvider;

    public RedisStreamsReceiveContext(StreamEntry entry, ReceiveStream stream, RedisStreamsReceiveEndpointContext context, int deliveryCount)
        : base(deliveryCount > 1, context)
    {
        _entry = entry;
        _stream = stream;
        DeliveryCount = deliveryCount;

        ConsumerGroup = context.QueueName;
        ConsumerName = context.BusContext.ConsumerName;
        _hosts = context.BusContext.Hosts;
        _endpoint = context;

        (_bodyField, Body) = ReadBody(entry);
    }

    public override MessageBody Body { get; }

    protected override IHeaderProvider HeaderProvider => _headerProvider ??= new EntryHeaderProvider(_entry, _bodyField, _hosts);

    /// <summary>
    /// The entry's Content-Type; an entry without one that names its message types (<c>MT-MessageType</c>) is in the
    /// transport's own format, whatever the endpoint's default deserializer; any other goes to that default.
    /// </summary>
    protected override ContentType GetContentType()
    {
        var contentType = EntryFields.Get(_entry, EntryFieldNames.ContentTypeBytes);
        if (contentType.IsNull)
            return EntryFields.Get(_entry, EntryFieldNames.MessageTypeBytes).IsNull ? default! : EntryJsonSerializer.EntryJsonContentType;

        return base.GetContentType();
    }

    public StreamEntry Entry => _entry;

    /// <summary>
    /// Where the message was sent, as MassTransit's envelope records it: the queue's endpoint address for an entry of a queue,
    /// the topic address of the message type for an entry of an event stream — and, for an entry moved to <c>_error</c> or
    /// <c>_skipped</c> or replayed, the address of the stream it was first sent to (see <see cref="EntryAddresses" />).
    /// </summary>
    public Uri DestinationAddress => _destinationAddress ??= EntryAddresses.DestinationOf(_entry, _stream, _endpoint.BusContext.Keys,
        _endpoint.BusContext.HostAddress, InputAddress)
        ?? InputAddress;

    public string StreamKey => _stream.Key.ToString();
    public string EntryId => _entry.Id.ToString();
    public string ConsumerGroup { get; }
    public string ConsumerName { get; }
    public int DeliveryCount { get; }

    public bool IsReplay => !EntryFields.Get(_entry, EntryFieldNames.ReplayIdBytes).IsNull;
    public string? ReplayedEntryId => IsReplay ? (string?)EntryFields.Get(_entry, EntryFieldNames.ReplayedEntryBytes) : null;
    public string? ReplayedStreamKey => IsReplay ? (string?)EntryFields.Get(_entry, EntryFieldNames.ReplayedStreamBytes) : null;

    /// <summary>
    /// The receive pipe is done with the entry: it is acknowledged, and released from the buffer once that has succeeded. The
    /// worker goes on at once, as RabbitMQ's does after its BasicAck.
    /// </summary>
    public Task Complete()
    {
        Completed = true;
        return Task.CompletedTask;
    }

    /// <summary>Whether the receive pipe completed the entry (so it is to be acknowledged), rather than leaving it pending.</summary>
    public bool Completed { get; private set; }

    public Task Faulted(Exception exception)
    {
        // Not acknowledged: the entry stays in the group's pending list, to be delivered again.
        return Task.CompletedTask;
    }

    public Task ValidateLockStatus()
    {
        return Task.CompletedTask;
    }

    static (string Field, BytesMessageBody Body) ReadBody(StreamEntry entry)
    {
        var (field, body) = EntryValidator.GetBody(entry);

        return (field, body.IsNull ? new BytesMessageBody([]) : new BytesMessageBody((byte[])body!));
    }
}
