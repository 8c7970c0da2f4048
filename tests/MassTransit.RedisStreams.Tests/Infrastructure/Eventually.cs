namespace MassTransit.RedisStreams.Tests.Infrastructure;

using System;
using System.Diagnostics;
using System.Threading.Tasks;


/// <summary>
/// Waits for a condition that only an outside process (Redis, a health check) can make true, checking it every few
/// milliseconds until it holds or the timeout passes. The wait ends as soon as the condition holds.
/// </summary>
public static class Eventually
{
    public static async Task<bool> True(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            if (await condition())
                return true;

            if (stopwatch.Elapsed > timeout)
                return false;

            await Task.Delay(20);
        }
    }

    public static Task<bool> True(Func<bool> condition, TimeSpan timeout) => True(() => Task.FromResult(condition()), timeout);
}
