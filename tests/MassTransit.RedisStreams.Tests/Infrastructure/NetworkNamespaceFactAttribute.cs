namespace MassTransit.RedisStreams.Tests.Infrastructure;

using System;


/// <summary>A fact that needs a <see cref="NetworkNamespace" /> and a redis-server of its own; skipped where there is none.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class NetworkNamespaceFactAttribute : Xunit.FactAttribute
{
    public NetworkNamespaceFactAttribute()
    {
        Skip = NetworkNamespace.Unavailable
            ?? (TestRedis.CanManageOwnServer ? null : "Needs redis-server on PATH (Debian/Ubuntu: sudo apt-get install -y redis-server).");
    }
}
