namespace MassTransit.RedisStreams.Redis;

using System;
using StackExchange.Redis;


/// <summary>Which Redis failures are worth trying again, because they pass by themselves.</summary>
static class TransientFailures
{
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
