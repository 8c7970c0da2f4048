namespace MassTransit.RedisStreams.Benchmarks.Compare;

using System;
using System.Collections.Concurrent;
using System.Threading;


/// <summary>
/// One workload on one transport: a name prefix unique to the run, and the endpoints and message types it used, which the
/// transport deletes afterwards.
/// </summary>
public sealed class RunScope
{
    static int _runs;

    public RunScope()
    {
        RunId = "b" + Interlocked.Increment(ref _runs) + Guid.NewGuid().ToString("N")[..4];
    }

    public string RunId { get; }

    public ConcurrentBag<string> Endpoints { get; } = [];
    public ConcurrentBag<Type> MessageTypes { get; } = [];

    /// <summary>An endpoint name unique to the run, recorded for cleanup.</summary>
    public string Endpoint(string name)
    {
        var unique = RunId + "-" + name;
        Endpoints.Add(unique);
        return unique;
    }

    public void Uses<T>() => MessageTypes.Add(typeof(T));
}
