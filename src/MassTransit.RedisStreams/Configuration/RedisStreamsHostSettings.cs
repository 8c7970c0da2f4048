namespace MassTransit.RedisStreams.Configuration;

using System;
using System.Collections.Generic;
using System.Linq;
using MassTransit.Configuration;
using Redis;
using StackExchange.Redis;
using Transport;


/// <summary>
/// The connection and transport settings of one bus, from <see cref="RedisStreamsTransportOptions" /> and <c>cfg.Host(...)</c>.
/// </summary>
sealed class RedisStreamsHostSettings :
    IRedisStreamsHostConfigurator,
    ISpecification
{
    RedisStreamsTransportOptions _options;
    ConfigurationOptions? _configurationOptions;
    IConnectionMultiplexer? _multiplexer;

    public RedisStreamsHostSettings()
    {
        _options = new RedisStreamsTransportOptions();
    }

    public string? User
    {
        set => _options.User = value;
    }

    public string? Password
    {
        set => _options.Password = value;
    }

    public string? TlsCaCertificate
    {
        set => _options.TlsCaCertificate = value;
    }

    public string? TlsClientCertificate
    {
        set => _options.TlsClientCertificate = value;
    }

    public string? TlsClientKey
    {
        set => _options.TlsClientKey = value;
    }

    public string? KeyPrefix
    {
        get => _options.KeyPrefix;
        set => _options.KeyPrefix = value;
    }

    public string? ConsumerName
    {
        get => _options.ConsumerName;
        set => _options.ConsumerName = value;
    }

    public TimeSpan IdlePollInterval
    {
        get => _options.IdlePollInterval;
        set => _options.IdlePollInterval = value;
    }

    public int MaxReaderConnections
    {
        get => _options.MaxReaderConnections;
        set => _options.MaxReaderConnections = value;
    }

    public TimeSpan TemporaryStreamExpiry
    {
        get => _options.TemporaryStreamExpiry;
        set => _options.TemporaryStreamExpiry = value;
    }

    public TimeSpan ClaimTimeout
    {
        get => _options.ClaimTimeout;
        set => _options.ClaimTimeout = value;
    }

    public int MaxDeliveryCount
    {
        get => _options.MaxDeliveryCount;
        set => _options.MaxDeliveryCount = value;
    }

    public TimeSpan SendTimeout
    {
        get => _options.SendTimeout;
        set => _options.SendTimeout = value;
    }

    public int WaitForReplicas
    {
        get => _options.WaitForReplicas;
        set => _options.WaitForReplicas = value;
    }

    public TimeSpan WaitForReplicasTimeout
    {
        get => _options.WaitForReplicasTimeout;
        set => _options.WaitForReplicasTimeout = value;
    }

    public TimeSpan DuplicateDetectionWindow
    {
        get => _options.DuplicateDetectionWindow;
        set => _options.DuplicateDetectionWindow = value;
    }

    public int MaxMessageSize
    {
        get => _options.MaxMessageSize;
        set => _options.MaxMessageSize = value;
    }

    public TimeSpan DeadConsumerTimeout
    {
        get => _options.DeadConsumerTimeout;
        set => _options.DeadConsumerTimeout = value;
    }

    public bool MoveExpiredToSkipped
    {
        get => _options.MoveExpiredToSkipped;
        set => _options.MoveExpiredToSkipped = value;
    }

    public TimeSpan MetricsSampleInterval
    {
        get => _options.MetricsSampleInterval;
        set => _options.MetricsSampleInterval = value;
    }

    public long? DegradedLagThreshold
    {
        get => _options.DegradedLagThreshold;
        set => _options.DegradedLagThreshold = value;
    }

    public TimeSpan? DegradedPendingAgeThreshold
    {
        get => _options.DegradedPendingAgeThreshold;
        set => _options.DegradedPendingAgeThreshold = value;
    }

    public RedisStreamsHostAddress HostAddress
    {
        get
        {
            var prefix = SafePrefix();
            if (_multiplexer != null)
                return RedisStreamsHostAddress.FromConfiguration(ConfigurationOptions.Parse(_multiplexer.Configuration), prefix);

            if (_configurationOptions != null)
                return RedisStreamsHostAddress.FromConfiguration(_configurationOptions, prefix);

            try
            {
                return RedisStreamsHostAddress.FromConfiguration(RedisConfiguration.Parse(_options.Configuration, _options.User, _options.Password), prefix);
            }
            catch (ArgumentException)
            {
                return new RedisStreamsHostAddress("localhost", null, prefix);
            }
        }
    }

    public void Apply(RedisStreamsTransportOptions options)
    {
        _options = options.Copy();
        _configurationOptions = null;
        _multiplexer = null;
    }

    public void Use(string configuration)
    {
        _options.Configuration = configuration;
        _configurationOptions = null;
        _multiplexer = null;
    }

    public void Use(ConfigurationOptions options)
    {
        _configurationOptions = options;
        _multiplexer = null;
    }

    public void Use(IConnectionMultiplexer multiplexer)
    {
        _multiplexer = multiplexer;
        _configurationOptions = null;
    }

    public RedisConnection CreateConnection()
    {
        if (_multiplexer != null)
            return new RedisConnection(_multiplexer);

        return _configurationOptions != null
            ? new RedisConnection(_configurationOptions, defaultReconnectPolicy: false)
            : new RedisConnection(CreateConfigurationOptions(), defaultReconnectPolicy: true);
    }

    ConfigurationOptions CreateConfigurationOptions()
    {
        var options = RedisConfiguration.Parse(_options.Configuration, _options.User, _options.Password);
        RedisConfiguration.ApplyTls(options, _options.TlsCaCertificate, _options.TlsClientCertificate, _options.TlsClientKey);
        return options;
    }

    public IEnumerable<ValidationResult> Validate()
    {
        var problems = _options.Validate();

        // A connection given as options or as a multiplexer needs no configuration string.
        if (_configurationOptions != null || _multiplexer != null)
            problems = problems.Where(x => !x.StartsWith("RedisStreams:Configuration", StringComparison.Ordinal));

        if (_configurationOptions is { EndPoints.Count: 0 })
            problems = problems.Append("The ConfigurationOptions given to Host(...) name no server; add at least one endpoint, e.g. options.EndPoints.Add(\"localhost:6379\").");

        return problems.Select(x => this.Failure("Host", x));
    }

    string SafePrefix()
    {
        try
        {
            return StreamKeys.NormalizePrefix(_options.KeyPrefix);
        }
        catch (ArgumentException)
        {
            return "";
        }
    }
}
