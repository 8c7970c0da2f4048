namespace MassTransit.RedisStreams.Benchmarks.Compare.Workloads;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Results;
using StackExchange.Redis;


/// <summary>
/// Redis memory per stored entry: messages whose JSON is 100 bytes, 256 bytes and 4 KB are published through the bus to a
/// stream that no endpoint reads (the raw loop adds the bare JSON), and MEMORY USAGE of the stream is divided by its length.
/// </summary>
public sealed class MemoryWorkload :
    Workload
{
    public override string Id => "memory";
    public override string Title => "Redis memory per entry";

    public override string Settings(ComparisonOptions options) =>
        $"{options.MemoryEntries:N0} entries per size; MEMORY USAGE <stream> SAMPLES 0 ÷ XLEN. The raw loop stores one field, the "
        + "message's JSON; the transport stores the message's JSON and its headers as fields, host information once per process.";

    public override IReadOnlyList<Metric> Metrics(ComparisonOptions options) =>
        options.MemorySizes.Select(size => new Metric("bytes@" + size, $"{Label(size)} message", "bytes/entry", false)).ToList();

    public override string? NotApplicable(string transport) =>
        transport is TransportNames.InMemory or TransportNames.RabbitMq ? "not stored in Redis" : null;

    public override async Task<Outcome> Run(string transport, BenchEnvironment environment, RunScope scope)
    {
        var options = environment.Options;
        var redis = environment.Redis;
        var database = redis.Admin.GetDatabase();
        var outcome = new Outcome();

        await using var bus = transport == TransportNames.RawRedis
            ? null
            : await BenchBus.Start(environment.BusTransports[transport], scope, []);

        foreach (var size in options.MemorySizes)
        {
            var message = Payloads.Sized(size);
            RedisKey stream;
            if (bus == null)
                stream = await environment.Raw.Fill(options.MemoryEntries, options.InFlight, i => Payloads.Json(message with { Sequence = 10_000 + i }));
            else
            {
                await Load.InFlight(options.MemoryEntries, options.InFlight, i => bus.Bus.Publish(message with { Sequence = 10_000 + i }));
                stream = await FindStream(redis.Admin, redis.KeyPrefix, options.MemoryEntries);
            }

            var bytes = (long)await database.ExecuteAsync("MEMORY", "USAGE", stream, "SAMPLES", "0");
            var first = (await database.StreamRangeAsync(stream, "-", "+", 1))[0];
            outcome.Values["bytes@" + size] = bytes / (double)options.MemoryEntries;
            outcome.Details[$"field bytes of a {Label(size)} entry"] = first.Values.Sum(x => x.Name.Length() + x.Value.Length());
            await database.KeyDeleteAsync(stream);
        }

        return outcome;
    }

    /// <summary>The stream that holds the published entries: the one with exactly that many.</summary>
    static async Task<RedisKey> FindStream(ConnectionMultiplexer admin, string? prefix, long entries)
    {
        var database = admin.GetDatabase();
        await foreach (var key in admin.GetServers()[0].KeysAsync(pattern: (prefix ?? "") + "*"))
        {
            if (await database.KeyTypeAsync(key) == RedisType.Stream && await database.StreamLengthAsync(key) == entries)
                return key;
        }

        throw new InvalidOperationException($"No stream with {entries} entries after publishing them");
    }

    static string Label(int size) => size >= 1024 ? $"{size / 1024} KB" : $"{size}-byte";
}
