namespace MassTransit.RedisStreams.Benchmarks.Compare.Transports;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Brokers;
using StackExchange.Redis;


/// <summary>
/// The ceiling of the Redis part: plain XADD of the message's JSON, and <see cref="RawRedisReader" />s that read as many
/// entries per XREADGROUP as the transport's default prefetch and acknowledge each batch in one XACK. No envelope, no
/// MassTransit.
/// </summary>
public sealed class RawRedisLoop(RedisBroker redis, int readCount)
{
    /// <summary>How long a read blocks when the streams are empty: the transport's default IdlePollInterval.</summary>
    public static readonly TimeSpan Block = TimeSpan.FromSeconds(2);

    public int ReadCount => readCount;

    /// <summary>
    /// Adds <paramref name="messages" /> entries with <paramref name="inFlight" /> XADDs in flight to one stream that
    /// <paramref name="groups" /> consumer groups read; returns the add rate and the end-to-end rate (all groups done).
    /// </summary>
    public async Task<(double AddsPerSecond, double EndToEndPerSecond)> Throughput(int messages, int inFlight, int groups, byte[] body,
        TimeSpan timeout)
    {
        var database = redis.Admin.GetDatabase();
        var stream = redis.Key("raw:stream");
        var readers = new List<RawRedisReader>();
        for (var g = 0; g < groups; g++)
            readers.Add(await RawRedisReader.Create(redis.Connection, database, [stream], "group-" + g, readCount, Block));

        try
        {
            var stopwatch = Stopwatch.StartNew();
            using var stop = new CancellationTokenSource(timeout);
            var reading = readers.Select(reader =>
            {
                var seen = 0;
                return Task.Run(() => reader.Run(_ => ++seen < messages, stop.Token));
            }).ToList();

            await Load.InFlight(messages, inFlight, _ => database.StreamAddAsync(stream, "body", body));
            var added = stopwatch.Elapsed;

            await Task.WhenAll(reading);
            if (stop.IsCancellationRequested)
                throw new TimeoutException($"The raw readers did not read {messages} entries within {timeout}");

            return (messages / added.TotalSeconds, messages / stopwatch.Elapsed.TotalSeconds);
        }
        finally
        {
            foreach (var reader in readers)
                await reader.DisposeAsync();
        }
    }

    /// <summary>Adds entries carrying a Stopwatch timestamp at a steady rate; returns add-to-read latencies in ms, by sequence.</summary>
    public async Task<double[]> Latency(int count, int perSecond, byte[] body, TimeSpan timeout)
    {
        var database = redis.Admin.GetDatabase();
        var stream = redis.Key("raw:latency:" + perSecond.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var latencies = new double[count];
        await using var reader = await RawRedisReader.Create(redis.Connection, database, [stream], "latency", readCount, Block);

        using var stop = new CancellationTokenSource(timeout);
        var received = 0;
        var reading = Task.Run(() => reader.Run(fields =>
        {
            var sequence = (int)RawRedisReader.Field(fields, "seq");
            latencies[sequence] = Stopwatch.GetElapsedTime((long)RawRedisReader.Field(fields, "t")).TotalMilliseconds;
            return ++received < count;
        }, stop.Token));

        await Load.Paced(count, perSecond, i => database.StreamAddAsync(stream,
            [new NameValueEntry("body", body), new NameValueEntry("seq", i), new NameValueEntry("t", Stopwatch.GetTimestamp())]));

        await reading;
        if (received < count)
            throw new TimeoutException($"The raw reader read {received} of {count} entries within {timeout}");

        return latencies;
    }

    /// <summary>Starts <paramref name="endpoints" /> idle readers, each blocking on three streams, until the returned task's token stops.</summary>
    public async Task<IAsyncDisposable> StartIdle(int endpoints)
    {
        var database = redis.Admin.GetDatabase();
        var readers = new List<RawRedisReader>();
        for (var i = 0; i < endpoints; i++)
        {
            RedisKey[] streams = [redis.Key("raw:queue:" + i), redis.Key("raw:events:a"), redis.Key("raw:events:b")];
            readers.Add(await RawRedisReader.Create(redis.Connection, database, streams, "idle-" + i, readCount, Block));
        }

        var stop = new CancellationTokenSource();
        var loops = readers.Select(reader => Task.Run(() => reader.Run(_ => true, stop.Token))).ToList();
        return new IdleReaders(readers, loops, stop);
    }

    /// <summary>Adds <paramref name="count" /> entries of one field, the message's JSON, to a stream; returns the stream.</summary>
    public async Task<RedisKey> Fill(int count, int inFlight, Func<int, byte[]> body)
    {
        var database = redis.Admin.GetDatabase();
        var stream = redis.Key("raw:memory");
        await Load.InFlight(count, inFlight, i => database.StreamAddAsync(stream, "body", body(i)));
        return stream;
    }


    sealed class IdleReaders(List<RawRedisReader> readers, List<Task> loops, CancellationTokenSource stop) :
        IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            // A read blocks for up to Block before it sees the stop.
            await Task.WhenAll(loops).WaitAsync(Block + TimeSpan.FromSeconds(5));
            foreach (var reader in readers)
                await reader.DisposeAsync();
            stop.Dispose();
        }
    }
}
