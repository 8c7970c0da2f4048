namespace MassTransit.RedisStreams.Transport;

using System;
using System.Threading.Tasks;


/// <summary>The endpoint as its read loop sees it: whether anything consumes yet, and where it reports its health.</summary>
interface IEndpointStatus
{
    /// <summary>The endpoint's address, for the log.</summary>
    Uri InputAddress { get; }

    /// <summary>Completes once a consumer, handler or saga is connected: an endpoint with none (the bus endpoint before a request client needs it) reads nothing.</summary>
    Task Connected { get; }

    /// <summary>Reports the endpoint set up (<paramref name="reading" /> false) or reading (true) to MassTransit's transport observers.</summary>
    Task NotifyReady(bool reading);

    /// <summary>Reports a failure to MassTransit's transport observers: health turns unhealthy until the next <see cref="NotifyReady" />.</summary>
    Task NotifyFaulted(Exception exception);
}


/// <summary>What the read loop needs of the endpoint's settings.</summary>
/// <param name="IdlePollInterval">How often an idle endpoint looks when no wake-up arrives.</param>
/// <param name="Temporary">Whether the endpoint's queue stream expires when its process is gone.</param>
/// <param name="TemporaryStreamExpiry">How long such a stream lives unless renewed.</param>
readonly record struct ReadLoopSettings(TimeSpan IdlePollInterval, bool Temporary, TimeSpan TemporaryStreamExpiry);
