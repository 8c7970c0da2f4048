namespace MassTransit.RedisStreams.Serialization;

using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Transport;


/// <summary>
/// The message context of an entry in the transport's own format: every value MassTransit's envelope would hold, read from
/// the entry's fields. The sent time is the time in the message ID (a NewId) or, failing that, the entry ID's; host and, when
/// the entry has no <c>MT-Source-Address</c>, source address come from the host record the entry names.
/// </summary>
sealed class EntryMessageContext :
    MessageContext
{
    readonly Headers _transportHeaders;
    Guid? _conversationId;
    Guid? _correlationId;
    DateTime? _expirationTime;
    bool _expirationTimeRead;
    Uri? _faultAddress;
    Headers? _headers;
    HostInfo? _host;
    Guid? _initiatorId;
    Guid? _messageId;
    Guid? _requestId;
    Uri? _responseAddress;
    DateTime? _sentTime;
    Uri? _sourceAddress;

    public EntryMessageContext(Headers transportHeaders, Uri? destinationAddress)
    {
        _transportHeaders = transportHeaders;
        DestinationAddress = destinationAddress;
    }

    public Guid? MessageId => _messageId ??= _transportHeaders.GetMessageId();
    public Guid? RequestId => _requestId ??= _transportHeaders.GetRequestId();
    public Guid? CorrelationId => _correlationId ??= _transportHeaders.GetCorrelationId();
    public Guid? ConversationId => _conversationId ??= _transportHeaders.GetConversationId();
    public Guid? InitiatorId => _initiatorId ??= _transportHeaders.GetInitiatorId();

    public DateTime? ExpirationTime
    {
        get
        {
            if (!_expirationTimeRead)
            {
                _expirationTime = ReadTime(EntryFieldNames.ExpirationTime) ?? ReadTime(EntryFieldNames.SetAsideExpirationTime);
                _expirationTimeRead = true;
            }

            return _expirationTime;
        }
    }

    public Uri? SourceAddress => _sourceAddress ??= _transportHeaders.GetSourceAddress();
    public Uri? DestinationAddress { get; }
    public Uri? ResponseAddress => _responseAddress ??= _transportHeaders.GetResponseAddress();
    public Uri? FaultAddress => _faultAddress ??= _transportHeaders.GetFaultAddress();
    public DateTime? SentTime => _sentTime ??= GetSentTime();
    public Headers Headers => _headers ??= new MessageHeadersOnly(_transportHeaders);
    public HostInfo Host => _host ??= _transportHeaders.Get<HostInfo>(MessageHeaders.Host.Info)!;

    DateTime? GetSentTime()
    {
        // MassTransit's message IDs are NewIds, which hold the time they were made; an ID from elsewhere may hold nonsense.
        try
        {
            if (MessageId?.ToNewId().Timestamp is { } time && time > new DateTime(2000, 1, 1) && time < DateTime.UtcNow.AddDays(1))
                return time;
        }
        catch (ArgumentException)
        {
        }

        return _transportHeaders.TryGetHeader(MessageHeaders.TransportMessageId, out var id) && id is string entryId
            && long.TryParse(entryId.AsSpan(0, Math.Max(0, entryId.IndexOf('-'))), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
                ? DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime
                : null;
    }

    DateTime? ReadTime(string name)
    {
        return _transportHeaders.TryGetHeader(name, out var value) && value is string text
            && DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var time)
                ? time.ToUniversalTime()
                : null;
    }


    /// <summary>
    /// The message's headers: the entry's fields except those the context has properties for and those only the transport
    /// reads — what the envelope's <c>headers</c> held.
    /// </summary>
    sealed class MessageHeadersOnly :
        Headers
    {
        static readonly HashSet<string> NotMessageHeaders = new(StringComparer.OrdinalIgnoreCase)
        {
            MessageHeaders.MessageId,
            MessageHeaders.CorrelationId,
            MessageHeaders.ConversationId,
            MessageHeaders.RequestId,
            MessageHeaders.InitiatorId,
            MessageHeaders.SourceAddress,
            MessageHeaders.ResponseAddress,
            MessageHeaders.FaultAddress,
            MessageHeaders.MessageType,
            MessageHeaders.ContentType,
            MessageHeaders.TransportMessageId,
            MessageHeaders.Host.Info,
            EntryFieldNames.Host,
            EntryFieldNames.ExpirationTime,
            EntryFieldNames.SetAsideExpirationTime
        };

        readonly Headers _headers;

        public MessageHeadersOnly(Headers headers)
        {
            _headers = headers;
        }

        public IEnumerator<HeaderValue> GetEnumerator() => GetAll().Select(x => new HeaderValue(x.Key, x.Value)).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public IEnumerable<KeyValuePair<string, object>> GetAll() => _headers.GetAll().Where(x => !NotMessageHeaders.Contains(x.Key));

        public bool TryGetHeader(string key, out object value) => _headers.TryGetHeader(key, out value!);

        public T? Get<T>(string key, T? defaultValue = null)
            where T : class
        {
            return _headers.Get(key, defaultValue);
        }

        public T? Get<T>(string key, T? defaultValue = null)
            where T : struct
        {
            return _headers.Get(key, defaultValue);
        }
    }
}
