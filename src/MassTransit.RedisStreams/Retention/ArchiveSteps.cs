namespace MassTransit.RedisStreams.Retention;

using System;


/// <summary>
/// The steps of archiving a segment, named so that a fault test can stop a process at each: <c>written</c> (the segment's
/// temporary file is flushed, not yet in place), <c>stored</c> (the segment is durable in the archive, the mark not moved),
/// <c>recorded</c> (the mark is moved, the stream not trimmed) and <c>trimmed</c>.
/// </summary>
static class ArchiveSteps
{
    public const string Written = "written";
    public const string Stored = "stored";
    public const string Recorded = "recorded";
    public const string Trimmed = "trimmed";

    /// <summary>Called at each step, with its name; null but in tests.</summary>
    public static Action<string>? Reached { get; set; }

    public static void Reach(string step) => Reached?.Invoke(step);
}
