namespace MassTransit.RedisStreams.Tests.Infrastructure;

using Xunit;


/// <summary>Tests that measure the process's memory run alone, so that no other test's allocations count.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurements
{
    public const string Name = "Memory measurements";
}
