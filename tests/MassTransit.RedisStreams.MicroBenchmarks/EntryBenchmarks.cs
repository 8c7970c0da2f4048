namespace MassTransit.RedisStreams.MicroBenchmarks;

using System;
using System.Linq;
using BenchmarkDotNet.Attributes;
using Context;
using History;
using MassTransit.Serialization;
using Metadata;
using Redis;
using RedisStreams.Serialization;
using StackExchange.Redis;
using Transport;


/// <summary>A message of about 100 bytes of JSON, like the compare suite's.</summary>
public record Sample(Guid Id, int Sequence, string Text);


/// <summary>
/// The per-message CPU work of the transport outside Redis: turning a send context into stream fields (EntryWriter, including
/// serializing the envelope), checking an entry before dispatch (EntryValidator), reading its headers (EntryHeaderProvider),
/// and decoding it into a typed message (EventDecoder, as the event history does). Each calls one internal API, so they
/// follow a change of the entry format with a line or two.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class EntryBenchmarks
{
    const string EnvelopeMediaType = "application/vnd.masstransit+json";
    static readonly HostRecord Host = HostRecord.ForThisProcess(Source);
    static readonly EntryJsonSerializer EntryJson = new();
    static readonly Uri Source = new("redis-streams://localhost/bench/bus-host-abc");
    static readonly RedisKey Stream = "events:MassTransit.RedisStreams.MicroBenchmarks:Sample";

    readonly Sample _message = new(Guid.NewGuid(), 12345, "0123456789abcdefghijklmnopqr");
    readonly EventDecoder _decoder = new(null, new EventUpgrades(), null);

    /// <summary>The transport's own format (the default), or MassTransit's envelope (UseJsonSerializer()).</summary>
    [Params("entry", "envelope")]
    public string Format { get; set; } = "entry";
    StreamEntry _entry;

    [GlobalSetup]
    public void Setup()
    {
        // The entry a publish of the message writes, as Redis hands it back: names and values as bytes.
        var arguments = EntryWriter.Write(NewContext(), Host).Fields.ToArray();
        var fields = arguments.Chunk(2)
            .Select(x => new NameValueEntry((byte[])x[0]!, (byte[])x[1]!))
            .ToArray();
        _entry = new StreamEntry(System.Text.Encoding.UTF8.GetBytes("1700000000000-0"), fields);

        if (EntryValidator.Check(_entry, 4 * 1024 * 1024, EnvelopeMediaType) is { } problem)
            throw new InvalidOperationException(problem);
    }

    [Benchmark]
    public long Write() => EntryWriter.Write(NewContext(), Host).Size;

    /// <summary>What a send does before the append: the fields, and the duplicate detection key over them.</summary>
    [Benchmark]
    public long WriteWithDuplicateKey()
    {
        var context = NewContext();
        var entry = EntryWriter.Write(context, Host);
        entry.SetDuplicateKey(context.MessageId!.Value);
        return entry.Size;
    }

    /// <summary>Finding the body field, as every receive context does.</summary>
    [Benchmark]
    public long ReadBody() => EntryValidator.GetBody(_entry).Body.Length();

    /// <summary>The buffer's bookkeeping of one entry: held when read, released once acknowledged.</summary>
    [Benchmark]
    public bool HoldAndRelease()
    {
        var key = new EntryKey(Stream, _entry.Id);
        _held.TryAdd(key, 1);
        return _held.TryRemove(key, out _);
    }

    readonly System.Collections.Concurrent.ConcurrentDictionary<EntryKey, long> _held = new();

    [Benchmark]
    public string? Validate() => EntryValidator.Check(_entry, 4 * 1024 * 1024, EnvelopeMediaType);

    [Benchmark]
    public int ReadHeaders()
    {
        var headers = new EntryHeaderProvider(_entry, "body", null);
        var found = 0;
        foreach (var name in new[] { MessageHeaders.MessageId, MessageHeaders.ContentType, MessageHeaders.MessageType, MessageHeaders.SourceAddress })
        {
            if (headers.TryGetHeader(name, out _))
                found++;
        }

        return found;
    }

    [Benchmark]
    public Sample Decode() => _decoder.Decode<Sample>(Stream, _entry).Message ?? throw new InvalidOperationException("Not decoded");

    MessageSendContext<Sample> NewContext() => new(_message)
    {
        MessageId = NewId.NextGuid(),
        ConversationId = NewId.NextGuid(),
        SourceAddress = Source,
        Serializer = Format == "entry" ? EntryJson : SystemTextJsonMessageSerializer.Instance,
        ContentType = Format == "entry" ? EntryJson.ContentType : SystemTextJsonMessageSerializer.JsonContentType,
        SupportedMessageTypes = MessageTypeCache<Sample>.MessageTypeNames
    };
}
