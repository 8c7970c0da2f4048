namespace MassTransit.RedisStreams.Transport;

using Logging;
using Redis;
using StackExchange.Redis;


/// <summary>
/// The trace context an entry carries: MassTransit's <c>MT-Activity-Id</c> field, a W3C <c>traceparent</c>
/// (<c>00-{trace}-{span}-{flags}</c>), which a send writes and a consume continues, so that a send in one process and its consume
/// in another share one trace. An entry written by another client may carry it as <c>traceparent</c>, OpenTelemetry's name.
/// </summary>
static class TraceLinks
{
    /// <summary>The W3C name of the trace context, as clients other than MassTransit write it.</summary>
    public const string TraceParent = "traceparent";

    /// <summary>
    /// A copy made later from an entry — a replay, a requeue — is consumed in a trace of its own, linked to the trace of the
    /// send that wrote the original (<c>MT-Activity-Propagation: Link</c>), rather than as a late part of that trace.
    /// </summary>
    public static void LinkToOriginal(NewEntry copy, StreamEntry original)
    {
        var parent = original[DiagnosticHeaders.ActivityId];
        if (parent.IsNullOrEmpty)
            parent = original[TraceParent];
        if (parent.IsNullOrEmpty)
            return;

        if (!copy.Contains(DiagnosticHeaders.ActivityId))
            copy.Add(DiagnosticHeaders.ActivityId, parent);
        if (!copy.Contains(DiagnosticHeaders.ActivityPropagation))
            copy.Add(DiagnosticHeaders.ActivityPropagation, "Link");
    }

    /// <summary>True for the field that says how a copy's consume relates to the original's trace; a new copy says it anew.</summary>
    public static bool IsPropagation(string name) => name == DiagnosticHeaders.ActivityPropagation;
}
