namespace MassTransit;

using System;
using System.Globalization;
using RedisStreams.Redis;


/// <summary>
/// Where a receive endpoint's new consumer group on an event stream starts: <see cref="NewMessages" /> (the default),
/// <see cref="Beginning" />, or <see cref="At" /> a point in time. Set it with
/// <see cref="IRedisStreamsReceiveEndpointConfigurator.StartPosition" />.
/// </summary>
public sealed class RedisStreamsStartPosition
{
    readonly DateTimeOffset? _time;

    RedisStreamsStartPosition(string groupStartId, DateTimeOffset? time)
    {
        GroupStartId = groupStartId;
        _time = time;
    }

    /// <summary>At the end of the stream: the endpoint receives the events published after it first started.</summary>
    public static RedisStreamsStartPosition NewMessages { get; } = new("$", null);

    /// <summary>At the beginning of the stream: the endpoint receives every event still in the stream, then new ones.</summary>
    public static RedisStreamsStartPosition Beginning { get; } = new("0", null);

    /// <summary>
    /// Where the group starts, as <c>XGROUP CREATE</c> takes it: <c>$</c>, <c>0</c>, or the ID just before a start time.
    /// </summary>
    internal string GroupStartId { get; }

    /// <summary>
    /// At a point in time: the endpoint receives the events appended from <paramref name="time" /> on, the older ones still in
    /// the stream included — so that a new projection gets the history it needs on its first start.
    /// </summary>
    /// <param name="time">The time of the first event to receive; a time before any event is the same as <see cref="Beginning" />.</param>
    public static RedisStreamsStartPosition At(DateTimeOffset time) =>
        new(StreamEntryId.FromTime(time).Previous.ToString(), time);

    /// <summary><c>NewMessages</c>, <c>Beginning</c>, or <c>At(</c> the time in ISO 8601 <c>)</c>.</summary>
    public override string ToString() =>
        _time is { } time ? "At(" + time.ToString("O", CultureInfo.InvariantCulture) + ")"
        : ReferenceEquals(this, Beginning) ? nameof(Beginning) : nameof(NewMessages);
}
