namespace MassTransit.RedisStreams.Benchmarks.Compare.Results;

/// <summary>The process's memory at one point of a long run, after a full collection.</summary>
/// <param name="Percent">How far into the measured messages (10, 20, ... 100).</param>
/// <param name="Messages">Messages published and handled so far in the measured part.</param>
/// <param name="Seconds">Time spent putting messages through so far, the samples' own pauses left out.</param>
/// <param name="HeapMb">GC.GetTotalMemory(false) after GC.Collect, WaitForPendingFinalizers, GC.Collect: live objects.</param>
/// <param name="HeapSizeMb">GC.GetGCMemoryInfo().HeapSizeBytes at the same point: the heap including fragmentation.</param>
/// <param name="WorkingSetMb">Environment.WorkingSet at the same point.</param>
/// <param name="AllocatedMb">GC.GetTotalAllocatedBytes(true) so far in the measured part.</param>
/// <param name="Gen0">Gen0 collections so far in the measured part, the samples' own collections left out.</param>
/// <param name="Gen1">Gen1 collections, likewise.</param>
/// <param name="Gen2">Gen2 collections, likewise.</param>
/// <param name="RedisUsedMemoryMb">The Redis server's used_memory, when the transport is Redis.</param>
public sealed record Sample(
    int Percent,
    long Messages,
    double Seconds,
    double HeapMb,
    double HeapSizeMb,
    double WorkingSetMb,
    double AllocatedMb,
    int Gen0,
    int Gen1,
    int Gen2,
    double? RedisUsedMemoryMb);
