namespace MassTransit.RedisStreams.Diagnostics;

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Diagnostics.HealthChecks;


/// <summary>
/// The health of a bus's receive endpoints as consumers of their streams, beside MassTransit's own bus health check (which
/// says whether the bus and its endpoints run): Degraded when an endpoint's lag or its oldest pending entry has passed its
/// threshold, as last sampled; Healthy otherwise, and while nothing is sampled yet. It never says Unhealthy: a backlog is no
/// reason to restart a process, which is what liveness probes do.
/// </summary>
sealed class EndpointHealthCheck :
    IHealthCheck
{
    readonly Func<EndpointMonitors?> _endpoints;

    public EndpointHealthCheck(Func<EndpointMonitors?> endpoints)
    {
        _endpoints = endpoints;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var endpoints = _endpoints()?.All.OrderBy(x => x.Group, StringComparer.Ordinal).ToList() ?? [];

        var data = new Dictionary<string, object>(endpoints.Count);
        var problems = new List<string>();
        foreach (var endpoint in endpoints)
        {
            data[endpoint.Group] = new Dictionary<string, object?>
            {
                ["lag"] = endpoint.TotalLag,
                ["pending"] = endpoint.TotalPending,
                ["oldestPendingAgeSeconds"] = Math.Round(endpoint.OldestPendingAge.TotalSeconds, 1),
                ["held"] = endpoint.Held,
                ["sampledAt"] = endpoint.SampledAt?.ToString("O", CultureInfo.InvariantCulture)
            };

            if (endpoint.DescribeDegradation() is { } problem)
                problems.Add(problem);
        }

        if (problems.Count > 0)
            return Task.FromResult(HealthCheckResult.Degraded(string.Join("; ", problems), data: data));

        var watched = endpoints.Count(x => x.HasThresholds);
        return Task.FromResult(HealthCheckResult.Healthy(watched == 0
            ? $"{endpoints.Count} endpoints; no lag or pending age threshold set"
            : $"{watched} of {endpoints.Count} endpoints within their lag and pending age thresholds", data));
    }
}
