namespace MassTransit;

/// <summary>
/// Where a receive endpoint's new consumer group on an event stream starts.
/// </summary>
public enum RedisStreamsStartPosition
{
    /// <summary>At the end of the stream: the endpoint receives events published after it first started.</summary>
    NewMessages = 0,

    /// <summary>At the beginning of the stream: the endpoint receives every event still in the stream, then new ones.</summary>
    Beginning = 1
}
