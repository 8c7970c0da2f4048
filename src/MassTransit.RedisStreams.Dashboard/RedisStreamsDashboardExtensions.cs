namespace MassTransit;

using System;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RedisStreams.Dashboard;


/// <summary>
/// The operator's web view of a Redis Streams bus, as RabbitMQ has its management UI: <c>builder.Services.AddRedisStreamsDashboard()</c>
/// and <c>app.MapRedisStreamsDashboard("/streams")</c>.
/// </summary>
public static class RedisStreamsDashboardExtensions
{
    /// <summary>
    /// Adds what the dashboard needs from the container: antiforgery, for its forms, and authorization, for
    /// <see cref="RedisStreamsDashboardOptions.ChangesPolicy" />. Safe to call beside <c>AddAntiforgery</c> and <c>AddAuthorization</c>.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <returns>The services, to chain.</returns>
    public static IServiceCollection AddRedisStreamsDashboard(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.AddAntiforgery();
        services.AddAuthorization();
        return services;
    }

    /// <summary>
    /// Maps the dashboard under <paramref name="pattern" />: the streams overview, each stream with its groups and entries, the
    /// failed messages of an endpoint (move, delete), a message type's history, replay and rewind. It shows the Redis Streams bus
    /// registered with <c>AddMassTransit(x => x.UsingRedisStreams(...))</c> — its connection and key prefix — unless
    /// <see cref="RedisStreamsDashboardOptions.Connection" /> or <see cref="RedisStreamsDashboardOptions.ConnectionString" /> names
    /// another. Read-only unless <see cref="RedisStreamsDashboardOptions.ChangesPolicy" /> names a policy the user meets.
    /// </summary>
    /// <param name="endpoints">The application's endpoints, e.g. the <c>WebApplication</c>.</param>
    /// <param name="pattern">The path the dashboard is under, e.g. <c>/streams</c>.</param>
    /// <param name="configure">Sets the title, the refresh interval, the policy that allows changes, or the Redis to show.</param>
    /// <returns>The dashboard's endpoints, to chain <c>.RequireAuthorization(...)</c> and other conventions on.</returns>
    /// <exception cref="InvalidOperationException"><see cref="AddRedisStreamsDashboard" /> was not called.</exception>
    public static IEndpointConventionBuilder MapRedisStreamsDashboard(this IEndpointRouteBuilder endpoints, string pattern = "/streams",
        Action<RedisStreamsDashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);

        var options = new RedisStreamsDashboardOptions();
        configure?.Invoke(options);
        options.Validate();

        if (endpoints.ServiceProvider.GetService<IAntiforgery>() == null)
        {
            throw new InvalidOperationException("The Redis Streams dashboard needs antiforgery and authorization in the container: call "
                + "builder.Services.AddRedisStreamsDashboard() before building the application.");
        }

        var source = DashboardSource.Create(endpoints.ServiceProvider, options);
        var group = endpoints.MapGroup(pattern);
        DashboardRoutes.Map(group, pattern, new DashboardContext(options, source));

        return group;
    }
}
