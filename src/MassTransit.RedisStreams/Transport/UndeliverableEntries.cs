namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// Keeps what must not reach MassTransit away from it: an entry delivered more often than MaxDeliveryCount (its handler
/// crashes the process, or the connection drops, every time), or one that is not a message at all. Such an entry is moved to
/// the endpoint's <c>_error</c> stream with the reason and acknowledged, so it never blocks the entries behind it.
/// </summary>
sealed class UndeliverableEntries
{
    /// <summary><c>MT-Reason</c> of an entry delivered more than MaxDeliveryCount times without being acknowledged.</summary>
    public const string MaxDeliveries = "max-deliveries";

    /// <summary><c>MT-Reason</c> of an entry that is not a message: no body, not JSON, a malformed header, too large.</summary>
    public const string InvalidEntry = "invalid-entry";

    /// <summary>The stream a moved entry was read from.</summary>
    public const string SourceStreamHeader = "MT-Redis-Source-Stream";

    /// <summary>The ID the moved entry had in that stream.</summary>
    public const string SourceEntryHeader = "MT-Redis-Source-Entry";

    readonly RedisStreamsReceiveEndpointContext _context;
    readonly string _defaultMediaType;

    public UndeliverableEntries(RedisStreamsReceiveEndpointContext context)
    {
        _context = context;
        _defaultMediaType = context.Serialization.GetMessageDeserializer().ContentType.MediaType;
    }

    /// <summary>
    /// Moves the entry aside when it must not be delivered.
    /// </summary>
    /// <returns>True when the entry was taken care of here (moved, or left pending when the move failed).</returns>
    public async Task<bool> TryDivert(ReceiveStream stream, StreamEntry entry, int deliveryCount)
    {
        var settings = _context.Broker.Settings;
        string reason;
        string message;

        if (deliveryCount > settings.MaxDeliveryCount)
        {
            reason = MaxDeliveries;
            message = $"Delivered {deliveryCount} times without being acknowledged, more than the MaxDeliveryCount of "
                + $"{settings.MaxDeliveryCount}; its handler may crash the process or lose the connection every time.";
        }
        else
        {
            var problem = EntryValidator.Check(entry, settings.MaxMessageSize, _defaultMediaType);
            if (problem == null)
                return false;

            reason = InvalidEntry;
            message = problem;
        }

        try
        {
            LogContext.Warning?.Log("Moving entry {EntryId} of {Stream} to the error stream: {Reason}", entry.Id, stream.Key, message);

            await _context.ErrorTransport.Move(entry,
            [
                new KeyValuePair<string, object>(MessageHeaders.Reason, reason),
                new KeyValuePair<string, object>(MessageHeaders.FaultMessage, message),
                new KeyValuePair<string, object>(MessageHeaders.FaultInputAddress, _context.InputAddress),
                new KeyValuePair<string, object>(MessageHeaders.FaultTimestamp, DateTime.UtcNow),
                new KeyValuePair<string, object>(SourceStreamHeader, stream.Key.ToString()),
                new KeyValuePair<string, object>(SourceEntryHeader, entry.Id.ToString())
            ]).ConfigureAwait(false);

            await stream.Acknowledgements.Acknowledge(entry.Id).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // Left pending: the entry is claimed and checked again later.
            LogContext.Warning?.Log(exception, "Moving entry {EntryId} of {Stream} to the error stream failed", entry.Id, stream.Key);
        }

        return true;
    }
}
