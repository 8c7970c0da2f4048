namespace MassTransit.RedisStreams.Benchmarks.Compare.Transports;

using System;
using System.Collections.Generic;
using System.Globalization;


/// <summary>This transport, on the benchmark's Redis, with its default settings.</summary>
public sealed class RedisStreamsTransport(string connection, string? keyPrefix, TimeSpan? claimTimeout = null) :
    BusTransport
{
    public override string Name => TransportNames.RedisStreams;
    public override bool CrossProcess => true;

    public override void Use(IBusRegistrationConfigurator x, Action<IBusRegistrationContext, IBusFactoryConfigurator>? configure)
    {
        x.UsingRedisStreams((context, cfg) =>
        {
            cfg.Host(connection, h =>
            {
                // Only on a shared server (the smoke test) and in the quick crash run; both are recorded in the results.
                if (keyPrefix != null)
                    h.KeyPrefix = keyPrefix;
                if (claimTimeout is { } timeout)
                    h.ClaimTimeout = timeout;
            });
            configure?.Invoke(context, cfg);
            cfg.ConfigureEndpoints(context);
        });
    }

    public override IEnumerable<string> WorkerArguments()
    {
        yield return "--redis";
        yield return connection;
        if (keyPrefix != null)
        {
            yield return "--key-prefix";
            yield return keyPrefix;
        }
    }

    /// <summary>The same transport with another ClaimTimeout, for the crash workload's consumer processes.</summary>
    public static IEnumerable<string> ClaimTimeoutArgument(TimeSpan? timeout) =>
        timeout is { } value ? ["--claim-timeout-ms", ((int)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)] : [];
}
