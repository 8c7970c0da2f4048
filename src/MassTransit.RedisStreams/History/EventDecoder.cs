namespace MassTransit.RedisStreams.History;

using System;
using Redis;
using StackExchange.Redis;
using Transport;


/// <summary>
/// Turns stored entries into <see cref="RedisStreamsStoredEvent{T}" />s: the entry read as <c>T</c>, or through a registered upgrade
/// from an older contract, or — when neither works — with the reason, so that one unreadable entry never fails a read.
/// </summary>
sealed class EventDecoder
{
    readonly ISerialization? _serialization;
    readonly EventUpgrades _upgrades;
    readonly HostRecords? _hosts;
    readonly Func<RedisKey, StreamEntry, Uri?>? _destinationOf;

    /// <param name="serialization">
    /// The bus's deserializers; without them, the transport's own format, MassTransit's JSON envelope and raw JSON are read.
    /// </param>
    /// <param name="upgrades">The registered upgrades.</param>
    /// <param name="hosts">The host records, for the host and implied source address of entries that name one; null for none.</param>
    /// <param name="destinationOf">Where an entry was sent, when its format does not say (see <see cref="EntryAddresses" />); null for not known.</param>
    public EventDecoder(ISerialization? serialization, EventUpgrades upgrades, HostRecords? hosts, Func<RedisKey, StreamEntry, Uri?>? destinationOf = null)
    {
        _serialization = serialization;
        _upgrades = upgrades;
        _hosts = hosts;
        _destinationOf = destinationOf;
    }

    /// <summary>
    /// Reads an entry as <typeparamref name="T" />, in this order: as the type it says it is; as an older contract it says it
    /// is, upgraded; from its JSON as <typeparamref name="T" />; from its JSON as an older contract, upgraded.
    /// </summary>
    public RedisStreamsStoredEvent<T> Decode<T>(RedisKey stream, StreamEntry entry)
        where T : class
    {
        var message = new EntryMessage(entry, _serialization, _hosts);
        var upgrades = _upgrades.For<T>();

        T? result = null;
        Exception? error = null;
        var upgraded = false;
        var declared = false;

        foreach (var declaredOnly in new[] { true, false })
        {
            if (message.TryRead<T>(declaredOnly, out var read, out var readError))
            {
                result = read;
                declared = declaredOnly;
                break;
            }

            error ??= readError;

            foreach (var upgrade in upgrades)
            {
                if (upgrade.TryUpgrade(message, declaredOnly, out var value) && value is T upgradedValue)
                {
                    result = upgradedValue;
                    upgraded = true;
                    break;
                }
            }

            if (result != null)
                break;
        }

        var id = StreamEntryId.Parse(entry.Id);
        var isReplay = !entry[EntryFieldNames.ReplayId].IsNull;

        var destination = message.Context?.DestinationAddress ?? _destinationOf?.Invoke(stream, entry);

        return new RedisStreamsStoredEvent<T>(stream.ToString(), id.ToString(), id.Timestamp, result, result == null ? error : null,
            message.GetAllHeaders(), message.Context, destination, upgraded, declared, isReplay);
    }
}
