namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;


/// <summary>
/// Keeps what must not reach MassTransit away from it: an entry delivered more often than MaxDeliveryCount (its handler
/// crashes the process, or the connection drops, every time), or one that is not a message at all. Such an entry is moved to
/// the endpoint's <c>_error</c> stream with the reason and acknowledged, so it never blocks the entries behind it. A message
/// whose time to live has passed is not delivered either: it is dropped, or moved to <c>_skipped</c>, and counted.
/// </summary>
sealed class UndeliverableEntries
{
    readonly Acknowledger _acknowledger;
    readonly RedisStreamsReceiveEndpointContext _context;
    readonly string _defaultMediaType;

    public UndeliverableEntries(RedisStreamsReceiveEndpointContext context, Acknowledger acknowledger)
    {
        _context = context;
        _acknowledger = acknowledger;
        _defaultMediaType = context.Serialization.GetMessageDeserializer().ContentType.MediaType;
    }

    /// <summary>
    /// Moves the entry aside when it must not be delivered.
    /// </summary>
    /// <returns>True when the entry was taken care of here (moved, or left pending when the move failed).</returns>
    public async Task<bool> TryDivert(ReceiveStream stream, StreamEntry entry, int deliveryCount)
    {
        var settings = _context.BusContext.Settings;
        string reason;
        string message;

        if (IsExpired(entry, out var expiredAt))
        {
            await DivertExpired(stream, entry, expiredAt).ConfigureAwait(false);
            return true;
        }

        if (deliveryCount > _context.MaxDeliveryCount)
        {
            reason = EntryFieldNames.MaxDeliveriesReason;
            message = $"Delivered {deliveryCount} times without being acknowledged, more than the MaxDeliveryCount of "
                + $"{_context.MaxDeliveryCount}; its handler may crash the process or lose the connection every time.";
        }
        else
        {
            var problem = EntryValidator.Check(entry, settings.MaxMessageSize, _defaultMediaType);
            if (problem == null)
                return false;

            reason = EntryFieldNames.InvalidEntryReason;
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
                new KeyValuePair<string, object>(EntryFieldNames.SourceStream, stream.Key.ToString()),
                new KeyValuePair<string, object>(EntryFieldNames.SourceEntry, entry.Id.ToString())
            ]).ConfigureAwait(false);

            await _acknowledger.Acknowledge(stream, entry.Id).ConfigureAwait(false);
        }
        catch (Exception exception) when (TransientFailures.IsRedisFailure(exception))
        {
            // Left pending: the entry is claimed and checked again later.
            LogContext.Warning?.Log(exception, "Moving entry {EntryId} of {Stream} to the error stream failed", entry.Id, stream.Key);
        }

        return true;
    }

    static bool IsExpired(StreamEntry entry, out DateTime expiredAt)
    {
        var field = EntryFields.Get(entry, EntryFieldNames.ExpirationTimeBytes);
        if (field.IsNull)
        {
            expiredAt = default;
            return false;
        }

        var value = (string?)field;
        if (value == null || !DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out expiredAt))
        {
            expiredAt = default;
            return false;
        }

        expiredAt = expiredAt.ToUniversalTime();
        return expiredAt < DateTime.UtcNow;
    }

    async Task DivertExpired(ReceiveStream stream, StreamEntry entry, DateTime expiredAt)
    {
        _context.CountExpired();
        try
        {
            if (_context.MoveExpiredToSkipped)
            {
                await _context.SkippedTransport.Move(entry,
                [
                    new KeyValuePair<string, object>(MessageHeaders.Reason, EntryFieldNames.ExpiredReason),
                    new KeyValuePair<string, object>(EntryFieldNames.SourceStream, stream.Key.ToString()),
                    new KeyValuePair<string, object>(EntryFieldNames.SourceEntry, entry.Id.ToString())
                ]).ConfigureAwait(false);
            }

            await _acknowledger.Acknowledge(stream, entry.Id).ConfigureAwait(false);

            LogContext.Debug?.Log("Entry {EntryId} of {Stream} expired at {ExpiredAt:O}; {Action}", entry.Id, stream.Key, expiredAt,
                _context.MoveExpiredToSkipped ? "moved to the skipped stream" : "dropped");
        }
        catch (Exception exception) when (TransientFailures.IsRedisFailure(exception))
        {
            // Left pending: the entry is claimed and checked again later.
            LogContext.Warning?.Log(exception, "Dropping the expired entry {EntryId} of {Stream} failed", entry.Id, stream.Key);
        }
    }
}
