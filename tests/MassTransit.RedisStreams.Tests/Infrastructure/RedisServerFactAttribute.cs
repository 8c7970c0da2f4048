using System;
using Xunit;

namespace MassTransit.RedisStreams.Tests.Infrastructure;

/// <summary>
/// A fact that needs a <see cref="RedisServerProcess"/> of its own (to kill or restart it); it is reported as skipped,
/// not passed, on a machine without <c>redis-server</c> on PATH.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RedisServerFactAttribute : FactAttribute
{
    public RedisServerFactAttribute()
    {
        if (!TestRedis.CanManageOwnServer)
            Skip = "Needs redis-server on PATH (Debian/Ubuntu: sudo apt-get install -y redis-server).";
    }
}


/// <summary>A theory that needs a <see cref="RedisServerProcess"/> of its own; skipped like <see cref="RedisServerFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RedisServerTheoryAttribute : TheoryAttribute
{
    public RedisServerTheoryAttribute()
    {
        if (!TestRedis.CanManageOwnServer)
            Skip = "Needs redis-server on PATH (Debian/Ubuntu: sudo apt-get install -y redis-server).";
    }
}
