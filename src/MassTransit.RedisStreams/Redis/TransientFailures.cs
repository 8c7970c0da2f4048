namespace MassTransit.RedisStreams.Redis;

using System;
using StackExchange.Redis;


/// <summary>Which failures come from Redis or the connection to it, and which of those pass by themselves.</summary>
static class TransientFailures
{
    /// <summary>
    /// A command that failed because Redis or the connection did: worth logging and trying again later. A multiplexer the bus
    /// closed while stopping reports itself as disposed.
    /// </summary>
    public static bool IsRedisFailure(Exception exception)
    {
        return exception is RedisException or TimeoutException or ObjectDisposedException;
    }

    /// <summary>A failure worth retrying at once, with a short backoff: the server may answer the same command soon.</summary>
    public static bool IsTransient(Exception exception)
    {
        return exception switch
        {
            RedisConnectionException => true,
            RedisTimeoutException => true,
            // A server that restarts answers LOADING until it has read its data; a replica being promoted, MASTERDOWN/READONLY;
            // a cluster moving slots, TRYAGAIN/CLUSTERDOWN.
            RedisServerException server => server.Message.StartsWith("LOADING", StringComparison.Ordinal)
                || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
                || server.Message.StartsWith("READONLY", StringComparison.Ordinal)
                || server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
                || server.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal),
            _ => false
        };
    }
}
