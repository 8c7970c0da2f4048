namespace MassTransit.RedisStreams.History;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Context;
using MassTransit.Serialization;
using Metadata;
using Redis;
using StackExchange.Redis;
using Transport;


/// <summary>
/// Delivers stored events again to one endpoint by appending copies of them to the endpoint's queue stream, marked as
/// replays, a page at a time; the event streams themselves are only read.
/// </summary>
sealed class EventReplayer
{
    readonly IStreamAppends _appends;
    readonly HostRecords _hosts;
    readonly StreamKeys _keys;
    readonly EventDecoder _decoder;
    readonly EventLogReader _reader;

    public EventReplayer(IStreamAppends appends, StreamKeys keys, EventLogReader reader, EventDecoder decoder, HostRecords hosts)
    {
        _appends = appends;
        _hosts = hosts;
        _keys = keys;
        _reader = reader;
        _decoder = decoder;
    }

    /// <summary>
    /// Replays the entries of <paramref name="streams" /> between two IDs to <paramref name="endpoint" />'s queue, events of
    /// older contracts upgraded to <typeparamref name="T" />.
    /// </summary>
    public Task<long> Replay<T>(string endpoint, IReadOnlyList<RedisKey> streams, StreamEntryId first, StreamEntryId last, long? count,
        IProgress<long>? progress, CancellationToken cancellationToken)
        where T : class
    {
        return Replay(endpoint, streams, first, last, count, progress, Copy<T>, cancellationToken);
    }

    /// <summary>Replays the entries as they are, for a caller that has no type for them (the command line).</summary>
    public Task<long> ReplayAsStored(string endpoint, IReadOnlyList<RedisKey> streams, StreamEntryId first, StreamEntryId last, long? count,
        IProgress<long>? progress, CancellationToken cancellationToken)
    {
        return Replay(endpoint, streams, first, last, count, progress, CopyAsStored, cancellationToken);
    }

    async Task<long> Replay(string endpoint, IReadOnlyList<RedisKey> streams, StreamEntryId first, StreamEntryId last, long? count,
        IProgress<long>? progress, Func<RedisKey, StreamEntry, string, NewEntry> copy, CancellationToken cancellationToken)
    {
        var queue = _keys.Queue(endpoint);
        var replayId = NewId.NextGuid().ToString("N");

        long replayed = 0;
        var page = new List<Task<string?>>(EventLogReader.PageSize);

        // Cancellation is looked at between pages only, so that a page is either replayed and counted, or not begun.
        await foreach (var (stream, entry) in _reader.Read(streams, first, last, newestFirst: false, CancellationToken.None).ConfigureAwait(false))
        {
            if (count.HasValue && replayed + page.Count >= count.Value)
                break;

            // A copy names the original writer's host record under a new entry ID: held first, so that retention keeps it.
            await _hosts.HoldNamed([entry[EntryFieldNames.Host]]).ConfigureAwait(false);
            page.Add(_appends.Append(queue, copy(stream, entry, replayId), onlyIfStreamExists: true));

            if (page.Count == EventLogReader.PageSize)
            {
                replayed += await Complete(page, queue).ConfigureAwait(false);
                progress?.Report(replayed);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        replayed += await Complete(page, queue).ConfigureAwait(false);
        progress?.Report(replayed);

        return replayed;
    }

    /// <summary>Waits for a page of appends, which StackExchange.Redis sent in order on one connection.</summary>
    static async Task<long> Complete(List<Task<string?>> page, RedisKey queue)
    {
        if (page.Count == 0)
            return 0;

        var ids = await Task.WhenAll(page).ConfigureAwait(false);
        page.Clear();

        if (ids.Any(x => x == null))
            throw new InvalidOperationException($"The queue stream {queue} was deleted during the replay.");

        return ids.Length;
    }

    /// <summary>
    /// The replayed copy of an entry: its fields as they are — or, for an event of an older contract or another type name, the
    /// message written anew as a <typeparamref name="T" /> — with the replay's ID and where the original is.
    /// </summary>
    NewEntry Copy<T>(RedisKey stream, StreamEntry entry, string replayId)
        where T : class
    {
        // An entry that says it is a T goes as it is; one read from its JSON, or upgraded, is written anew as a T, so that
        // the endpoint's consumers of T take it.
        var stored = _decoder.Decode<T>(stream, entry);
        if (stored is not { Declared: false, Message: { } message })
            return CopyAsStored(stream, entry, replayId);

        var copy = Serialize(message, stored);
        Mark(copy, stream, entry, replayId);
        return copy;
    }

    static NewEntry CopyAsStored(RedisKey stream, StreamEntry entry, string replayId)
    {
        var copy = new NewEntry(entry.Values.Length + 3);
        foreach (var field in entry.Values)
        {
            var name = (string?)field.Name ?? "";
            if (name is not (EntryFieldNames.ReplayId or EntryFieldNames.ReplayedStream or EntryFieldNames.ReplayedEntry) && !TraceLinks.IsPropagation(name))
                copy.Add(field.Name, field.Value);
        }

        Mark(copy, stream, entry, replayId);
        return copy;
    }

    static void Mark(NewEntry copy, RedisKey stream, StreamEntry entry, string replayId)
    {
        copy.Add(EntryFieldNames.ReplayId, replayId);
        copy.Add(EntryFieldNames.ReplayedStream, stream.ToString());
        copy.Add(EntryFieldNames.ReplayedEntry, entry.Id);
        TraceLinks.LinkToOriginal(copy, entry);
    }

    static NewEntry Serialize<T>(T message, RedisStreamsStoredEvent<T> stored)
        where T : class
    {
        var context = new MessageSendContext<T>(message)
        {
            MessageId = stored.MessageId ?? NewId.NextGuid(),
            CorrelationId = stored.CorrelationId,
            ConversationId = stored.ConversationId,
            InitiatorId = stored.InitiatorId,
            SourceAddress = stored.SourceAddress!,
            Serializer = SystemTextJsonMessageSerializer.Instance,
            ContentType = SystemTextJsonMessageSerializer.JsonContentType,
            SupportedMessageTypes = MessageTypeCache<T>.MessageTypeNames
        };

        return EntryWriter.Write(context, null);
    }
}
