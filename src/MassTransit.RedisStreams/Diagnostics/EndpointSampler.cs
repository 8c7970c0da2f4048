namespace MassTransit.RedisStreams.Diagnostics;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Middleware;
using Redis;
using StackExchange.Redis;


/// <summary>
/// Reads where the consumer groups of the bus's endpoints stand — lag, pending, the oldest pending entry — every
/// <see cref="RedisStreamsTransportOptions.MetricsSampleInterval" />, for the gauges and for health. It samples only while
/// someone listens to those gauges or an endpoint has a health threshold, and then sends two commands per stream an endpoint
/// reads, pipelined in one round trip: an idle bus with no one listening sends nothing more.
/// </summary>
sealed class EndpointSampler :
    Agent
{
    readonly EndpointMonitors _endpoints;
    readonly TimeSpan _interval;
    readonly Task _loop;
    readonly TaskCompletionSource _stop;
    readonly IGroupStatistics _statistics;
    readonly TimeProvider _time;

    public EndpointSampler(EndpointMonitors endpoints, IGroupStatistics statistics, TimeSpan interval, TimeProvider time)
    {
        _endpoints = endpoints;
        _statistics = statistics;
        _interval = interval;
        _time = time;
        _stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        SetReady();
        _loop = Task.Run(Run);
    }

    async Task Run()
    {
        using var timer = new PeriodicTimer(_interval, _time);
        while (true)
        {
            var tick = timer.WaitForNextTickAsync().AsTask();
            if (await Task.WhenAny(tick, _stop.Task).ConfigureAwait(false) == _stop.Task)
                return;

            await _endpoints.Sample(_statistics, _time, onlyWhenWanted: true).ConfigureAwait(false);
        }
    }

    protected override async Task StopAgent(StopContext context)
    {
        _stop.TrySetResult();
        await _loop.ConfigureAwait(false);

        await base.StopAgent(context).ConfigureAwait(false);
    }
}


/// <summary>The receive endpoints of a bus that are running, for metrics and health.</summary>
sealed class EndpointMonitors
{
    readonly ConcurrentDictionary<EndpointMonitor, byte> _endpoints = new();

    public IEnumerable<EndpointMonitor> All => _endpoints.Keys;

    public void Add(EndpointMonitor endpoint)
    {
        _endpoints.TryAdd(endpoint, 0);
        TransportMetrics.Add(endpoint);
    }

    public void Remove(EndpointMonitor endpoint)
    {
        _endpoints.TryRemove(endpoint, out _);
        TransportMetrics.Remove(endpoint);
    }

    /// <summary>
    /// Samples every endpoint, or with <paramref name="onlyWhenWanted" /> only when someone listens to the sampled gauges or an
    /// endpoint has a health threshold. A failure leaves the previous samples in place.
    /// </summary>
    public async Task Sample(IGroupStatistics statistics, TimeProvider time, bool onlyWhenWanted = false)
    {
        var endpoints = _endpoints.Keys.ToArray();
        if (endpoints.Length == 0 || onlyWhenWanted && !TransportMetrics.SamplesWanted && !endpoints.Any(x => x.HasThresholds))
            return;

        var groups = new List<(RedisKey Stream, string Group)>();
        var ranges = new (int Start, int Count)[endpoints.Length];
        for (var i = 0; i < endpoints.Length; i++)
        {
            var start = groups.Count;
            foreach (var stream in endpoints[i].Streams)
                groups.Add((stream, endpoints[i].Group));
            ranges[i] = (start, groups.Count - start);
        }

        try
        {
            var sampled = await statistics.Sample(groups).ConfigureAwait(false);
            var now = time.GetUtcNow();
            for (var i = 0; i < endpoints.Length; i++)
            {
                var samples = new GroupSample[ranges[i].Count];
                for (var j = 0; j < samples.Length; j++)
                {
                    var index = ranges[i].Start + j;
                    var statistic = sampled[index];
                    samples[j] = new GroupSample(groups[index].Stream.ToString(), statistic.Lag, statistic.Pending, statistic.OldestPending);
                }

                endpoints[i].Update(samples, now);
            }
        }
        catch (Exception exception) when (TransientFailures.IsRedisFailure(exception))
        {
            LogContext.Debug?.Log(exception, "Sampling the consumer groups failed; trying again at the next interval");
        }
    }
}
