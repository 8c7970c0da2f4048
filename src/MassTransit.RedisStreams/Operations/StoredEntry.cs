namespace MassTransit.RedisStreams.Operations;

using System;
using System.Collections.Generic;
using Redis;
using StackExchange.Redis;
using Transport;


/// <summary>
/// One entry of any stream as an operator reads it: its ID and time, the message's type and ID, and — for an entry moved to
/// <c>_error</c> or <c>_skipped</c> — why (the fault headers) and where it came from. What the command line and a dashboard
/// show, with no console or HTML in it.
/// </summary>
sealed class StoredEntry
{
    StoredEntry(StreamEntry entry)
    {
        Entry = entry;
        Id = StreamEntryId.Parse(entry.Id);
        (BodyField, Body) = EntryValidator.GetBody(entry);

        var types = Field(MessageHeaders.MessageType);
        MessageTypes = string.IsNullOrEmpty(types) ? [] : types.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>The entry as Redis returned it.</summary>
    public StreamEntry Entry { get; }

    public StreamEntryId Id { get; }

    /// <summary>When it was appended, from its ID.</summary>
    public DateTimeOffset Time => Id.Timestamp;

    /// <summary>The message type URNs it was sent as, its own first.</summary>
    public IReadOnlyList<string> MessageTypes { get; }

    /// <summary>Its own type's name: the first URN without <c>urn:message:</c>.</summary>
    public string? MessageType => MessageTypes.Count == 0 ? null
        : MessageTypes[0].StartsWith("urn:message:", StringComparison.Ordinal) ? MessageTypes[0]["urn:message:".Length..] : MessageTypes[0];

    public string? MessageId => Field(MessageHeaders.MessageId);

    /// <summary><c>MT-Reason</c>: <c>fault</c>, <c>dead-letter</c>, <c>max-deliveries</c>, <c>invalid-entry</c>, <c>expired</c>; null on an entry never moved.</summary>
    public string? Reason => Field(MessageHeaders.Reason);

    public string? ExceptionType => Field(MessageHeaders.FaultExceptionType);

    public string? FaultMessage => Field(MessageHeaders.FaultMessage);

    public string? StackTrace => Field(MessageHeaders.FaultStackTrace);

    public string? FaultTimestamp => Field(MessageHeaders.FaultTimestamp);

    /// <summary>The endpoint that failed it.</summary>
    public string? InputAddress => Field(MessageHeaders.FaultInputAddress);

    public string? ConsumerType => Field(MessageHeaders.FaultConsumerType);

    /// <summary>The stream the entry was read from when it was moved here (<c>MT-Redis-Source-Stream</c>): a full key.</summary>
    public string? SourceStream => Field(EntryFieldNames.SourceStream);

    /// <summary>The ID it had there (<c>MT-Redis-Source-Entry</c>).</summary>
    public string? SourceEntry => Field(EntryFieldNames.SourceEntry);

    /// <summary>The field the body is in (<c>body</c>, or <c>data</c> for other writers), or null when there is none.</summary>
    public RedisValue BodyField { get; }

    public RedisValue Body { get; }

    /// <summary>Every field but the body, in the entry's order.</summary>
    public IEnumerable<NameValueEntry> Headers
    {
        get
        {
            foreach (var value in Entry.Values)
            {
                if (value.Name != BodyField)
                    yield return value;
            }
        }
    }

    public string? Field(string name)
    {
        var value = Entry[name];
        return value.IsNull ? null : (string?)value;
    }

    /// <summary>
    /// The fields it goes back with: without what a move to <c>_error</c> or <c>_skipped</c> added (why, where from, by which
    /// host; <c>MT-Fault-Address</c>, the message's own, stays), as <see cref="RedisStreamsAdmin.Requeue" /> has always sent it.
    /// </summary>
    public NewEntry FieldsAsSent()
    {
        var fields = new NewEntry(Entry.Values.Length + 1);
        foreach (var field in Entry.Values)
        {
            var name = (string?)field.Name ?? "";
            if (!EntryFieldNames.IsAddedByMove(name) && !TraceLinks.IsPropagation(name))
                fields.Add(field.Name, field.Value);
        }

        // Consumed again in a trace of its own, linked to the one it failed in.
        TraceLinks.LinkToOriginal(fields, Entry);

        return fields;
    }

    public static StoredEntry Decode(StreamEntry entry) => new(entry);
}
