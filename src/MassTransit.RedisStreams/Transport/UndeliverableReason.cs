namespace MassTransit.RedisStreams.Transport;

/// <summary>
/// The <c>MT-Reason</c> values of entries the transport itself moves to <c>_error</c>, and the headers that say where they
/// came from. MassTransit's own values are <c>fault</c> (in <c>_error</c>) and <c>dead-letter</c> (in <c>_skipped</c>).
/// </summary>
static class UndeliverableReason
{
    /// <summary>Delivered more than MaxDeliveryCount times without being acknowledged.</summary>
    public const string MaxDeliveries = "max-deliveries";

    /// <summary>Not a message: no body, not JSON, a malformed header, or larger than MaxMessageSize.</summary>
    public const string InvalidEntry = "invalid-entry";

    /// <summary>The stream a moved entry was read from.</summary>
    public const string SourceStreamHeader = "MT-Redis-Source-Stream";

    /// <summary>The ID the moved entry had in that stream.</summary>
    public const string SourceEntryHeader = "MT-Redis-Source-Entry";
}
