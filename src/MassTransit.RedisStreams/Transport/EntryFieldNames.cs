namespace MassTransit.RedisStreams.Transport;

using System;


/// <summary>
/// The names of the fields of a stream entry that the transport itself gives meaning to, and the values of <c>MT-Reason</c>
/// it writes. Every other field is a MassTransit header under MassTransit's own name.
/// </summary>
static class EntryFieldNames
{
    /// <summary>The serialized message.</summary>
    public const string Body = "body";

    /// <summary><see cref="Body" /> as the bytes Redis returns, for comparing without decoding.</summary>
    public static ReadOnlySpan<byte> BodyBytes => "body"u8;

    /// <summary>The body field name the Python event broker and other writers use; read when <c>body</c> is missing.</summary>
    public const string AlternateBody = "data";

    /// <summary><see cref="AlternateBody" /> as bytes.</summary>
    public static ReadOnlySpan<byte> AlternateBodyBytes => "data"u8;

    /// <summary>
    /// The ID of the host record (see <see cref="HostRecord" />) of the process that wrote the entry: its host information and,
    /// for an entry without <c>MT-Source-Address</c>, the source address.
    /// </summary>
    public const string Host = "MT-Host";

    /// <summary>When a message with a time to live expires: the UTC time in round-trip format.</summary>
    public const string ExpirationTime = "MT-Expiration-Time";

    /// <summary>
    /// On an entry moved to <c>_error</c> or <c>_skipped</c>: when the message was to expire. It tells, as the envelope would;
    /// the transport does not expire a message set aside.
    /// </summary>
    public const string SetAsideExpirationTime = "MT-Redis-Expiration-Time";

    /// <summary>The stream a moved entry was read from.</summary>
    public const string SourceStream = "MT-Redis-Source-Stream";

    /// <summary>The ID the moved entry had in that stream.</summary>
    public const string SourceEntry = "MT-Redis-Source-Entry";

    /// <summary>On a replayed copy of a stored event: the ID of the replay that appended it.</summary>
    public const string ReplayId = "MT-Redis-Replay";

    /// <summary>On a replayed copy: the stream the original is in.</summary>
    public const string ReplayedStream = "MT-Redis-Replay-Stream";

    /// <summary>On a replayed copy: the original's entry ID.</summary>
    public const string ReplayedEntry = "MT-Redis-Replay-Entry";

    /// <summary>The names of the fields the receive path looks up on every entry, as bytes (see <see cref="EntryFields" />).</summary>
    public static ReadOnlySpan<byte> HostBytes => "MT-Host"u8;

    /// <summary><see cref="ExpirationTime" /> as bytes.</summary>
    public static ReadOnlySpan<byte> ExpirationTimeBytes => "MT-Expiration-Time"u8;

    /// <summary><see cref="SourceStream" /> as bytes.</summary>
    public static ReadOnlySpan<byte> SourceStreamBytes => "MT-Redis-Source-Stream"u8;

    /// <summary><see cref="ReplayId" /> as bytes.</summary>
    public static ReadOnlySpan<byte> ReplayIdBytes => "MT-Redis-Replay"u8;

    /// <summary><see cref="ReplayedStream" /> as bytes.</summary>
    public static ReadOnlySpan<byte> ReplayedStreamBytes => "MT-Redis-Replay-Stream"u8;

    /// <summary><see cref="ReplayedEntry" /> as bytes.</summary>
    public static ReadOnlySpan<byte> ReplayedEntryBytes => "MT-Redis-Replay-Entry"u8;

    /// <summary>MassTransit's <c>Content-Type</c> header as bytes.</summary>
    public static ReadOnlySpan<byte> ContentTypeBytes => "Content-Type"u8;

    /// <summary>MassTransit's <c>MT-MessageType</c> header as bytes.</summary>
    public static ReadOnlySpan<byte> MessageTypeBytes => "MT-MessageType"u8;

    /// <summary><c>MT-Reason</c> of an entry delivered more than MaxDeliveryCount times without being acknowledged.</summary>
    public const string MaxDeliveriesReason = "max-deliveries";

    /// <summary><c>MT-Reason</c> of a message moved to <c>_skipped</c> because its time to live had passed when it was read.</summary>
    public const string ExpiredReason = "expired";

    /// <summary><c>MT-Reason</c> of an entry that is not a message: no body, not JSON, a malformed header, too large.</summary>
    public const string InvalidEntryReason = "invalid-entry";

    /// <summary>
    /// True for a field that moving an entry to <c>_error</c> or <c>_skipped</c> adds: <c>MT-Reason</c>, <c>MT-Fault-*</c> (but
    /// not <c>MT-Fault-Address</c>, the message's own), <c>MT-Host-*</c> and <c>MT-Redis-Source-*</c>. A requeued entry goes back
    /// without them, as it was sent.
    /// </summary>
    public static bool IsAddedByMove(string name)
    {
        return name == MessageHeaders.Reason
            || name.StartsWith("MT-Fault-", StringComparison.Ordinal) && name != MessageHeaders.FaultAddress
            || name.StartsWith("MT-Host-", StringComparison.Ordinal)
            || name.StartsWith("MT-Redis-Source-", StringComparison.Ordinal);
    }
}
