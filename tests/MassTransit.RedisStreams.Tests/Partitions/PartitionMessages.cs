namespace MassTransit.RedisStreams.Tests.Partitions;

using System;
using System.Linq;
using System.Threading.Tasks;
using Contract;


[EntityName("IMeterEvent")]
public interface IMeterEvent
{
    Guid CorrelationId { get; }
    int Sequence { get; }
}


/// <summary>A hot event type: a meter's readings, keyed by the meter (its CorrelationId).</summary>
[EntityName("MeterRead")]
public record MeterRead(Guid CorrelationId, int Sequence) :
    IMeterEvent;


/// <summary>Partitioned by its attribute alone.</summary>
[RedisStreamsPartitions(4)]
[EntityName("GaugeRead")]
public record GaugeRead(Guid CorrelationId, int Sequence);


[RedisStreamsPartitions(0)]
[EntityName("WronglyPartitioned")]
public record WronglyPartitioned(Guid CorrelationId);


/// <summary>A message a consumer saw: on which endpoint, its key and sequence, and the stream it was read from.</summary>
public record Seen(string Endpoint, Guid Key, int Sequence, string Stream);


static class PartitionSupport
{
    /// <summary>Records what <paramref name="endpoint" /> receives of <typeparamref name="T" /> in <paramref name="seen" />.</summary>
    public static void Record<T>(IReceiveEndpointConfigurator e, string endpoint, Recorder<Seen> seen)
        where T : class, IMeterEvent
    {
        e.Handler<T>(context =>
        {
            context.TryGetPayload<RedisStreamsMessageContext>(out var redis);
            seen.Add(new Seen(endpoint, context.Message.CorrelationId, context.Message.Sequence, redis?.StreamKey ?? ""));
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// <paramref name="count" /> new keys, key i in partition i mod 12 of 12: so in every partition of 1, 2, 3, 4, 6 and 12 (the
    /// hash modulo 12 decides it modulo each of these) once there are that many keys. Random keys would leave a partition empty
    /// now and then (10 keys miss one of 3 partitions one time in 20).
    /// </summary>
    public static System.Collections.Generic.List<Guid> Keys(int count)
    {
        var keys = new System.Collections.Generic.List<Guid>(count);
        while (keys.Count < count)
        {
            var key = Guid.NewGuid();
            if (RedisStreams.Redis.PartitionKeys.Partition(key.ToString("D"), 12) == keys.Count % 12)
                keys.Add(key);
        }

        return keys;
    }

    /// <summary>The keys of <paramref name="seen" /> at <paramref name="endpoint" /> with their sequences in the order they arrived.</summary>
    public static ILookup<Guid, int> ByKey(this System.Collections.Generic.IEnumerable<Seen> seen, string endpoint) =>
        seen.Where(x => x.Endpoint == endpoint).ToLookup(x => x.Key, x => x.Sequence);
}
