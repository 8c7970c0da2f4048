namespace MassTransit.RedisStreams.Benchmarks.Compare;

using System;
using System.Text.Json;


// About 100 bytes of JSON each: {"id":"<36>","sequence":12345,"text":"<28>"}.

public record BenchEvent(Guid Id, int Sequence, string Text);


public record BenchCommand(Guid Id, int Sequence, string Text);


public record LatencyProbe(Guid Id, int Sequence, long SentTimestamp, string Text);


public record BenchRequest(Guid Id, int Sequence, string Text);


public record BenchReply(Guid Id, int Sequence);


public record IdleEventA(Guid Id);


public record IdleEventB(Guid Id);


public record IdleCommand(Guid Id);


public record WorkItem(Guid Id, int Sequence, string Text);


/// <summary>A message whose JSON is a given size, for the memory workload.</summary>
public record SizedPayload(Guid Id, int Sequence, string Text);


public static class Payloads
{
    /// <summary>28 characters: makes <see cref="BenchEvent" /> and its kin about 100 bytes of JSON.</summary>
    public const string Text = "0123456789abcdefghijklmnopqr";

    /// <summary>A <see cref="SizedPayload" /> whose JSON (camelCase, as MassTransit writes it) is <paramref name="bytes" /> long.</summary>
    public static SizedPayload Sized(int bytes, int sequence = 10_000)
    {
        var empty = JsonSerializer.SerializeToUtf8Bytes(new SizedPayload(Guid.NewGuid(), sequence, ""), JsonSerializerOptions.Web).Length;
        return new SizedPayload(Guid.NewGuid(), sequence, new string('x', Math.Max(0, bytes - empty)));
    }

    public static byte[] Json<T>(T message) => JsonSerializer.SerializeToUtf8Bytes(message, JsonSerializerOptions.Web);
}
