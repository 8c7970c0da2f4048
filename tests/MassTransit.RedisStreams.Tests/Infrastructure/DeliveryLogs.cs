namespace MassTransit.RedisStreams.Tests.Infrastructure;

using System.Collections.Concurrent;


/// <summary>Named delivery logs, registered once per service provider (one per application instance).</summary>
public sealed class DeliveryLogs
{
    readonly ConcurrentDictionary<string, DeliveryLog> _logs = new();

    public DeliveryLog Get(string name) => _logs.GetOrAdd(name, _ => new DeliveryLog());
}
