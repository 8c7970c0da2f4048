namespace MassTransit;

using System;


/// <summary>
/// Transport settings given with <c>cfg.Host(...)</c>; each one has the same meaning and default as the property of the same
/// name on <see cref="RedisStreamsTransportOptions" />.
/// </summary>
public interface IRedisStreamsHostConfigurator
{
    /// <inheritdoc cref="RedisStreamsTransportOptions.User" />
    /// <remarks>For a connection given as a configuration string; <c>ConfigurationOptions</c> carry their own.</remarks>
    string? User { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.Password" />
    /// <remarks>For a connection given as a configuration string; <c>ConfigurationOptions</c> carry their own.</remarks>
    string? Password { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.TlsCaCertificate" />
    string? TlsCaCertificate { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.TlsClientCertificate" />
    string? TlsClientCertificate { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.TlsClientKey" />
    string? TlsClientKey { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.KeyPrefix" />
    string? KeyPrefix { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.ConsumerName" />
    string? ConsumerName { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.IdlePollInterval" />
    TimeSpan IdlePollInterval { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.MaxReaderConnections" />
    int MaxReaderConnections { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.TemporaryStreamExpiry" />
    TimeSpan TemporaryStreamExpiry { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.ClaimTimeout" />
    TimeSpan ClaimTimeout { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.MaxDeliveryCount" />
    int MaxDeliveryCount { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.SendTimeout" />
    TimeSpan SendTimeout { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.WaitForReplicas" />
    int WaitForReplicas { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.WaitForReplicasTimeout" />
    TimeSpan WaitForReplicasTimeout { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.DuplicateDetectionWindow" />
    TimeSpan DuplicateDetectionWindow { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.MaxMessageSize" />
    int MaxMessageSize { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.DeadConsumerTimeout" />
    TimeSpan DeadConsumerTimeout { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.MoveExpiredToSkipped" />
    bool MoveExpiredToSkipped { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.MetricsSampleInterval" />
    TimeSpan MetricsSampleInterval { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.DegradedLagThreshold" />
    long? DegradedLagThreshold { set; }

    /// <inheritdoc cref="RedisStreamsTransportOptions.DegradedPendingAgeThreshold" />
    TimeSpan? DegradedPendingAgeThreshold { set; }
}
