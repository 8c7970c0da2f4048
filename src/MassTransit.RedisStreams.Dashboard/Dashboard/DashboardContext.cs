namespace MassTransit.RedisStreams.Dashboard;

/// <summary>One mapped dashboard: its options and where its data comes from.</summary>
sealed class DashboardContext
{
    public DashboardContext(RedisStreamsDashboardOptions options, DashboardSource source)
    {
        Options = options;
        Source = source;
    }

    public RedisStreamsDashboardOptions Options { get; }
    public DashboardSource Source { get; }
}
