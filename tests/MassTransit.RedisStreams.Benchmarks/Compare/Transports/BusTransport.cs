namespace MassTransit.RedisStreams.Benchmarks.Compare.Transports;

using System;
using System.Collections.Generic;
using System.Threading.Tasks;


/// <summary>
/// A MassTransit transport under test, configured the way an application does by default: the host, then
/// <c>ConfigureEndpoints</c>, with no prefetch or concurrency settings.
/// </summary>
public abstract class BusTransport
{
    public abstract string Name { get; }

    /// <summary>Whether consumers in other processes can share its queues (for the crash and scale-out workloads).</summary>
    public abstract bool CrossProcess { get; }

    /// <summary>
    /// Selects the transport; <paramref name="configure" /> adds receive endpoints of its own before
    /// <c>ConfigureEndpoints</c>.
    /// </summary>
    public abstract void Use(IBusRegistrationConfigurator x, Action<IBusRegistrationContext, IBusFactoryConfigurator>? configure);

    /// <summary>The arguments that make a worker process (see <see cref="Worker" />) use the same transport.</summary>
    public virtual IEnumerable<string> WorkerArguments() => [];

    /// <summary>Removes what a run left on the broker, so the next run starts from the same state.</summary>
    public virtual Task Cleanup(RunScope scope) => Task.CompletedTask;
}
