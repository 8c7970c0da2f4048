namespace MassTransit.RedisStreams.Tests.Diagnostics;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using MassTransit.Serialization;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Redis;
using TestHost;
using Xunit;


/// <summary>
/// Traces across processes: the test sends and publishes under OpenTelemetry with <c>AddRedisStreamsInstrumentation()</c> and
/// its in-memory exporter; a consumer host in another process traces its consumes the same way and prints every span. A send
/// and its consume share one trace, in the transport's own entry format and in MassTransit's envelope, delayed or not; a
/// replayed and a requeued message are consumed in traces of their own, linked to the send that wrote them.
/// </summary>
public class TracingTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    static readonly ActivitySource Source = new("MassTransit.RedisStreams.Tests.Tracing");

    /// <summary>A span the consumer host printed.</summary>
    sealed record HostSpan(string TraceId, string SpanId, string ParentSpanId, string Kind, string[] Links, string Name)
    {
        public static HostSpan? Parse(string line)
        {
            var parts = line.Split(' ', 7);
            if (parts.Length < 7 || parts[0] != "span")
                return null;

            var links = parts[5]["links=".Length..].Split(',', StringSplitOptions.RemoveEmptyEntries);
            return new HostSpan(parts[1], parts[2], parts[3], parts[4], links, parts[6]);
        }
    }

    [Fact]
    public async Task A_send_and_its_consume_in_another_process_share_one_trace_and_a_replay_or_a_requeue_is_linked_to_the_original()
    {
        var exported = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(Source.Name)
            .AddRedisStreamsInstrumentation()
            .AddInMemoryExporter(exported)
            .Build();

        var redis = await RedisTestContext.Create();
        using var host = await ConsumerHostProcess.Start(redis.ConnectionString, redis.KeyPrefix, ("traces", 1));
        await using var provider = await redis.StartHarness(_ => { });
        var bus = provider.GetRequiredService<IBus>();
        var work = await bus.GetSendEndpoint(new Uri("queue:work"));

        IEnumerable<HostSpan> HostSpans() => host.Lines.Select(HostSpan.Parse).OfType<HostSpan>();

        // The span of MassTransit's send (or publish) in this process, under the test's own span.
        Activity SendSpan(ActivityTraceId trace, ActivitySpanId parent)
        {
            lock (exported)
                return exported.Single(x => x.TraceId == trace && x.ParentSpanId == parent && x.Kind == ActivityKind.Producer);
        }

        async Task<(ActivityTraceId Trace, ActivitySpanId SendSpan)> Traced(string name, Func<Task> send)
        {
            using var activity = Source.StartActivity(name)!;
            await send();
            return (activity.TraceId, activity.SpanId);
        }

        // A send in the transport's own format, a delayed one, one in MassTransit's envelope, and a publish: each consume
        // continues the trace of its send, as a child of the send's span.
        var sends = new[]
        {
            await Traced("send", () => work.Send(new Work(1))),
            await Traced("delayed send", () => work.Send(new Work(2), x => x.Delay = TimeSpan.FromMilliseconds(300))),
            await Traced("envelope send", () => work.Send(new Work(3), x =>
            {
                x.Serializer = SystemTextJsonMessageSerializer.Instance;
                x.ContentType = SystemTextJsonMessageSerializer.JsonContentType;
            })),
            await Traced("publish", () => bus.Publish(new Work(4)))
        };

        foreach (var (trace, parent) in sends)
        {
            var send = SendSpan(trace, parent);
            Assert.True(await Eventually.True(() => HostSpans().Any(x => x.TraceId == trace.ToString() && x.ParentSpanId == send.SpanId.ToString()), Timeout),
                $"the consume in the other process continues trace {trace} under the send's span {send.SpanId}:\n{host.Output}");
        }

        // The published event replayed to the endpoint: a trace of its own, linked to the publish.
        var (publishTrace, publishParent) = sends[3];
        var publish = SendSpan(publishTrace, publishParent);
        var history = provider.GetRequiredService<IRedisStreamsEventHistory>();
        Assert.Equal(1, await history.Replay<Work>("work"));
        Assert.True(await Eventually.True(() => HostSpans().Any(x => x.TraceId != publishTrace.ToString() && x.Links.Contains($"{publishTrace}:{publish.SpanId}")), Timeout),
            $"the replay is consumed in a trace linked to the publish:\n{host.Output}");

        // A message in the endpoint's _error stream requeued: a trace of its own, linked to its send.
        var failed = await bus.GetSendEndpoint(new Uri("queue:work_error"));
        var (failedTrace, failedParent) = await Traced("failed send", () => failed.Send(new Work(5)));
        var failedSend = SendSpan(failedTrace, failedParent);
        Assert.Equal(1, await provider.GetRequiredService<IRedisStreamsAdmin>().Requeue("work"));
        Assert.True(await Eventually.True(() => HostSpans().Any(x => x.TraceId != failedTrace.ToString() && x.Links.Contains($"{failedTrace}:{failedSend.SpanId}")), Timeout),
            $"the requeued message is consumed in a trace linked to its send:\n{host.Output}");
    }

    [Fact]
    public async Task An_entry_written_by_another_client_with_a_W3C_traceparent_is_consumed_in_that_trace()
    {
        var exported = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddRedisStreamsInstrumentation().AddInMemoryExporter(exported).Build();

        var redis = await RedisTestContext.Create();
        var consumed = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("foreign-traced", e => e.Handler<Work>(_ =>
            {
                consumed.TrySetResult(Activity.Current?.TraceId.ToString());
                return Task.CompletedTask;
            }));
        });

        await bus.StartAsync();
        try
        {
            // As another language's client writes it: the message's JSON and OpenTelemetry's traceparent.
            var trace = ActivityTraceId.CreateRandom();
            var parent = ActivitySpanId.CreateRandom();
            var db = await redis.Database();
            await db.StreamAddAsync(redis.Key("queue:foreign-traced"),
            [
                new("body", "{\"sequence\":7}"),
                new("MT-MessageType", "urn:message:MassTransit.RedisStreams.TestHost:Work"),
                new("traceparent", $"00-{trace}-{parent}-01")
            ]);

            Assert.Equal(trace.ToString(), await consumed.Task.WaitAsync(Timeout));
        }
        finally
        {
            await bus.StopAsync();
        }
    }
}
