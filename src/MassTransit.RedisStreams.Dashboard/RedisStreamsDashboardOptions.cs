namespace MassTransit;

using System;
using StackExchange.Redis;


/// <summary>
/// The settings of the web view <see cref="RedisStreamsDashboardExtensions.MapRedisStreamsDashboard" /> maps: its title, how
/// often the overview refreshes, who may change data, and — for a dashboard without a bus — which Redis and key prefix it shows.
/// </summary>
public sealed class RedisStreamsDashboardOptions
{
    /// <summary>The title of every page. Default: <c>Redis Streams</c>.</summary>
    public string Title { get; set; } = "Redis Streams";

    /// <summary>How often the streams overview refreshes itself in the browser, between 1 second and 1 hour. Default: 5 seconds.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The name of the authorization policy a user must meet to change data: move, delete, replay, rewind. Without one the
    /// dashboard is read-only for everybody: the forms that change data are not shown and their POSTs are refused with 403.
    /// Who may see the dashboard at all is the application's to say, with <c>.RequireAuthorization(...)</c> on the mapping.
    /// </summary>
    public string? ChangesPolicy { get; set; }

    /// <summary>
    /// A connection of the caller's to show instead of the bus's; it stays the caller's and is never closed here. Without it
    /// and without <see cref="ConnectionString" />, the dashboard shows the Redis Streams bus the application registered with
    /// <c>AddMassTransit(x => x.UsingRedisStreams(...))</c>.
    /// </summary>
    public IConnectionMultiplexer? Connection { get; set; }

    /// <summary>
    /// A StackExchange.Redis configuration string to show instead of the bus's Redis; the dashboard opens the connection at its
    /// first request and closes it when the application stops.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>The key prefix of the bus to show, with <see cref="Connection" /> or <see cref="ConnectionString" />; ignored for the registered bus, whose own prefix is used.</summary>
    public string? KeyPrefix { get; set; }

    /// <summary>Throws when a value is out of range, naming the setting, the allowed range and the value.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Title))
            throw new ArgumentException("RedisStreamsDashboardOptions.Title must not be empty.");
        if (RefreshInterval < TimeSpan.FromSeconds(1) || RefreshInterval > TimeSpan.FromHours(1))
            throw new ArgumentException($"RedisStreamsDashboardOptions.RefreshInterval must be between 1 second and 1 hour, not {RefreshInterval}.");
        if (ChangesPolicy != null && string.IsNullOrWhiteSpace(ChangesPolicy))
            throw new ArgumentException("RedisStreamsDashboardOptions.ChangesPolicy must be a policy name or null, not blank.");
        if (Connection != null && ConnectionString != null)
            throw new ArgumentException("RedisStreamsDashboardOptions: set Connection or ConnectionString, not both.");
    }
}
