namespace MassTransit.RedisStreams.Benchmarks.Compare.Transports;

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// The raw loop's consumer: one member of a consumer group that reads its streams with
/// <c>XREADGROUP GROUP g c COUNT n BLOCK ms STREAMS ... &gt;</c> on a connection of its own (a blocking read holds its
/// connection) and acknowledges each batch with one <c>XACK</c> per stream on a shared connection, without waiting for it.
/// </summary>
public sealed class RawRedisReader :
    IAsyncDisposable
{
    readonly IDatabase _acks;
    readonly string _group;
    readonly ConnectionMultiplexer _reads;
    readonly RedisKey[] _streams;
    readonly object[] _arguments;
    readonly List<Task> _pendingAcks = [];

    RawRedisReader(ConnectionMultiplexer reads, IDatabase acks, RedisKey[] streams, string group, int count, TimeSpan block)
    {
        _reads = reads;
        _acks = acks;
        _streams = streams;
        _group = group;

        var arguments = new List<object>
        {
            "GROUP", group, "raw-consumer", "COUNT", count, "BLOCK", ((int)block.TotalMilliseconds).ToString(CultureInfo.InvariantCulture), "STREAMS"
        };
        foreach (var stream in streams)
            arguments.Add(stream);
        foreach (var _ in streams)
            arguments.Add(">");
        _arguments = arguments.ToArray();
    }

    /// <summary>Connects and creates the group on each stream (and the stream), reading only what is added from now on.</summary>
    public static async Task<RawRedisReader> Create(string connection, IDatabase acks, RedisKey[] streams, string group, int count, TimeSpan block)
    {
        // The blocking read may take up to block; the connection must not time it out.
        var reads = await ConnectionMultiplexer.ConnectAsync(connection + ",asyncTimeout=" + (int)(block.TotalMilliseconds + 5000));
        foreach (var stream in streams)
            await acks.StreamCreateConsumerGroupAsync(stream, group, StreamPosition.NewMessages, createStream: true);

        return new RawRedisReader(reads, acks, streams, group, count, block);
    }

    /// <summary>
    /// Reads until <paramref name="stop" /> is cancelled or <paramref name="onEntry" /> returns false, handing it each
    /// entry's field/value pairs.
    /// </summary>
    public async Task Run(Func<RedisResult[], bool> onEntry, CancellationToken stop)
    {
        var database = _reads.GetDatabase();
        var ids = new List<RedisValue>();
        while (!stop.IsCancellationRequested)
        {
            var result = await database.ExecuteAsync("XREADGROUP", _arguments);
            if (result.IsNull)
                continue;

            var more = true;
            foreach (var (stream, entries) in Streams(result))
            {
                ids.Clear();
                foreach (var entry in entries)
                {
                    var pair = (RedisResult[])entry!;
                    ids.Add((RedisValue)pair[0]);
                    more &= onEntry((RedisResult[])pair[1]!);
                }

                if (ids.Count > 0)
                    _pendingAcks.Add(_acks.StreamAcknowledgeAsync(stream, _group, ids.ToArray()));
            }

            if (!more)
                break;
        }

        await Task.WhenAll(_pendingAcks);
    }

    public async ValueTask DisposeAsync() => await _reads.DisposeAsync();

    /// <summary>The streams of an XREADGROUP reply: a map of stream to entries in RESP3, pairs in RESP2.</summary>
    static IEnumerable<(RedisKey Stream, RedisResult[] Entries)> Streams(RedisResult result)
    {
        var items = (RedisResult[])result!;
        if (result.Resp3Type == ResultType.Map)
        {
            for (var i = 0; i + 1 < items.Length; i += 2)
                yield return ((string)items[i]!, (RedisResult[])items[i + 1]!);
        }
        else
        {
            foreach (var item in items)
            {
                var parts = (RedisResult[])item!;
                yield return ((string)parts[0]!, (RedisResult[])parts[1]!);
            }
        }
    }

    /// <summary>The value of <paramref name="name" /> among an entry's field/value pairs.</summary>
    public static RedisValue Field(RedisResult[] fields, string name)
    {
        for (var i = 0; i + 1 < fields.Length; i += 2)
        {
            if ((string?)fields[i] == name)
                return (RedisValue)fields[i + 1];
        }

        return RedisValue.Null;
    }
}
