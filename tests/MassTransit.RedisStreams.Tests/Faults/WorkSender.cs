namespace MassTransit.RedisStreams.Tests.Faults;

using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading.Tasks;
using TestHost;


/// <summary>
/// A send-only bus in the test process that sends Work to the consumer hosts and remembers which sends returned (accepted)
/// and which threw.
/// </summary>
public sealed class WorkSender :
    IAsyncDisposable
{
    readonly IBusControl _bus;
    readonly string _queue;

    WorkSender(IBusControl bus, string queue)
    {
        _bus = bus;
        _queue = queue;
    }

    public ConcurrentBag<int> Accepted { get; } = [];
    public ConcurrentBag<(int Sequence, Exception Exception)> Failed { get; } = [];

    public static async Task<WorkSender> Start(string redis, string prefix, string queue = "work", TimeSpan? sendTimeout = null)
    {
        var bus = Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(redis, h =>
        {
            h.KeyPrefix = prefix;
            if (sendTimeout.HasValue)
                h.SendTimeout = sendTimeout.Value;
        }));

        await bus.StartAsync();

        return new WorkSender(bus, queue);
    }

    public Task<ISendEndpoint> GetEndpoint() => _bus.GetSendEndpoint(new Uri("queue:" + _queue));

    /// <summary>Sends sequence numbers [from, to) with <paramref name="parallel" /> sends in flight.</summary>
    public async Task Send(int from, int to, int parallel = 16, Func<int, Task>? afterEach = null)
    {
        var endpoint = await GetEndpoint();
        var next = from - 1;

        async Task Sender()
        {
            int sequence;
            while ((sequence = System.Threading.Interlocked.Increment(ref next)) < to)
            {
                try
                {
                    await endpoint.Send(new Work(sequence));
                    Accepted.Add(sequence);
                }
                catch (Exception exception)
                {
                    Failed.Add((sequence, exception));
                }

                if (afterEach != null)
                    await afterEach(sequence);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, parallel).Select(_ => Task.Run(Sender)));
    }

    public async ValueTask DisposeAsync()
    {
        await _bus.StopAsync();
    }
}
