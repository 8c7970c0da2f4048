namespace MassTransit.RedisStreams.Redis;

/// <summary>What a message on a stream's wake channel announces.</summary>
enum WakeReason
{
    /// <summary>Entries were appended to the stream while its readers were idle.</summary>
    Entries,

    /// <summary>A publisher recorded a new derived type whose stream the readers of this type must read too.</summary>
    Topology,

    /// <summary>A stopping instance released entries it had read but not started; others may claim them now.</summary>
    Claim
}
