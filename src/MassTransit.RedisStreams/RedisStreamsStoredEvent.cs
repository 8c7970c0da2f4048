namespace MassTransit;

using System;


/// <summary>
/// A message as it is kept in an event stream: the message, read as <typeparamref name="T" />, and where and when it was
/// stored, with its headers.
/// </summary>
/// <typeparam name="T">The message type it was read as.</typeparam>
public sealed class RedisStreamsStoredEvent<T>
    where T : class
{
    internal RedisStreamsStoredEvent(string streamKey, string entryId, DateTimeOffset timestamp, T? message, Exception? error, Headers headers,
        MessageContext? messageContext, Uri? destinationAddress, bool upgraded, bool declared, bool isReplay)
    {
        Declared = declared;
        StreamKey = streamKey;
        EntryId = entryId;
        Timestamp = timestamp;
        Message = message;
        Error = error;
        Headers = headers;
        Upgraded = upgraded;
        IsReplay = isReplay;

        MessageId = messageContext?.MessageId ?? ReadGuid(headers, MassTransit.MessageHeaders.MessageId);
        CorrelationId = messageContext?.CorrelationId ?? ReadGuid(headers, MassTransit.MessageHeaders.CorrelationId);
        ConversationId = messageContext?.ConversationId ?? ReadGuid(headers, MassTransit.MessageHeaders.ConversationId);
        InitiatorId = messageContext?.InitiatorId ?? ReadGuid(headers, MassTransit.MessageHeaders.InitiatorId);
        SentTime = messageContext?.SentTime;
        SourceAddress = messageContext?.SourceAddress;
        DestinationAddress = destinationAddress;
        ResponseAddress = messageContext?.ResponseAddress;
        FaultAddress = messageContext?.FaultAddress;
        ExpirationTime = messageContext?.ExpirationTime;
    }

    /// <summary>The message; null when the entry does not read as <typeparamref name="T" /> (see <see cref="Error" />).</summary>
    public T? Message { get; }

    /// <summary>
    /// Why the entry does not read as <typeparamref name="T" />, for example because the contract changed since it was
    /// stored; null when <see cref="Message" /> is set. One such entry never fails the read it is part of.
    /// </summary>
    public Exception? Error { get; }

    /// <summary>The stream the entry is in, e.g. <c>events:AuctionEnded</c>.</summary>
    public string StreamKey { get; }

    /// <summary>The entry ID, e.g. <c>1696320000000-0</c>: a position to read, replay or rewind from.</summary>
    public string EntryId { get; }

    /// <summary>When the entry was appended, from its ID.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>The message's headers: MassTransit's (such as <c>MT-MessageType</c>) and the application's own.</summary>
    public Headers Headers { get; }

    /// <summary>The message ID.</summary>
    public Guid? MessageId { get; }

    /// <summary>The correlation ID, if the message had one.</summary>
    public Guid? CorrelationId { get; }

    /// <summary>The conversation ID.</summary>
    public Guid? ConversationId { get; }

    /// <summary>The ID of the message that caused this one, if any.</summary>
    public Guid? InitiatorId { get; }

    /// <summary>When the message was sent, as its sender recorded it.</summary>
    public DateTime? SentTime { get; }

    /// <summary>Where the message was sent from.</summary>
    public Uri? SourceAddress { get; }

    /// <summary>
    /// Where the message was sent, as a consumer of it saw it: the topic address of its type for a publish, the endpoint's
    /// address for a send; for a replayed copy, where the original went.
    /// </summary>
    public Uri? DestinationAddress { get; }

    /// <summary>Where responses to the message were to go, if it asked for any.</summary>
    public Uri? ResponseAddress { get; }

    /// <summary>Where faults of the message were to go, if it named an address for them.</summary>
    public Uri? FaultAddress { get; }

    /// <summary>When the message was to expire, if it had a time to live.</summary>
    public DateTime? ExpirationTime { get; }

    /// <summary>True when the entry was stored under an older contract and read through a registered upgrade.</summary>
    public bool Upgraded { get; }

    /// <summary>True when the entry is a replayed copy of an earlier one (see <see cref="IRedisStreamsEventHistory.Replay{T}" />).</summary>
    public bool IsReplay { get; }

    /// <summary>
    /// The entry says it is a <typeparamref name="T" /> (its message types include it), so MassTransit's consumers of
    /// <typeparamref name="T" /> take it as it is; otherwise it was read from its JSON or upgraded.
    /// </summary>
    internal bool Declared { get; }

    static Guid? ReadGuid(Headers headers, string name)
    {
        return headers.TryGetHeader(name, out var value) && Guid.TryParse(value?.ToString(), out var guid) ? guid : null;
    }
}
