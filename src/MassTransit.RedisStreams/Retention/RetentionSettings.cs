namespace MassTransit.RedisStreams.Retention;

using System;
using System.Collections.Generic;
using System.Linq;
using MassTransit.Configuration;
using MassTransit.Topology;


/// <summary>The retention policies of one bus, set with <c>cfg.Retention(...)</c>, and which of them a stream gets.</summary>
sealed class RetentionSettings :
    IRedisStreamsRetentionConfigurator,
    ISpecification
{
    readonly Dictionary<string, RedisStreamsRetentionPolicy> _byEntityName = new(StringComparer.Ordinal);
    readonly Dictionary<string, bool> _archiveByEntityName = new(StringComparer.Ordinal);
    readonly List<Action<IMessageTopology>> _byType = [];

    public RedisStreamsRetentionPolicy Events { get; set; } = RedisStreamsRetentionPolicy.KeepAll;
    public RedisStreamsRetentionPolicy Faults { get; set; } = RedisStreamsRetentionPolicy.Age(TimeSpan.FromDays(7));
    public RedisStreamsRetentionPolicy Queues { get; set; } = RedisStreamsRetentionPolicy.Entries(0);
    public RedisStreamsRetentionPolicy DeadLetters { get; set; } = RedisStreamsRetentionPolicy.KeepAll;
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);
    public int StreamsPerPass { get; set; } = 100;
    public bool Enabled { get; set; } = true;
    public TimeSpan TemporaryGroupExpiry { get; set; } = TimeSpan.FromMinutes(5);
    public TimeSpan? InactiveGroupExpiry { get; set; }

    /// <summary>Where the policies' removals from event streams go first; null: they are deleted.</summary>
    public IRedisStreamsArchive? Archive { get; private set; }

    /// <summary>Whether fault streams are archived too.</summary>
    public bool ArchiveFaults { get; private set; }

    void IRedisStreamsRetentionConfigurator.Archive(IRedisStreamsArchive archive, bool faults)
    {
        ArgumentNullException.ThrowIfNull(archive);

        Archive = archive;
        ArchiveFaults = faults;
    }

    /// <summary>The archive of the event stream of <paramref name="entityName" />, or null: it deletes what its policy removes.</summary>
    public IRedisStreamsArchive? ArchiveFor(string entityName, RedisStreamsStreamKind kind)
    {
        if (_archiveByEntityName.TryGetValue(entityName, out var archive))
            return archive ? Archive : null;

        return kind == RedisStreamsStreamKind.Faults && !ArchiveFaults ? null : Archive;
    }

    /// <summary>
    /// How long a write holds the host record it names (see <see cref="Transport.HostRecords" />): a record is removed no sooner
    /// than this after the last write that named it. Not public: the tests shorten it.
    /// </summary>
    internal TimeSpan HostRecordHold { get; set; } = Transport.HostRecords.DefaultHold;

    public void MessageType<T>(RedisStreamsRetentionPolicy policy)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(policy);

        // The entity name comes from the bus's message topology, known once the bus is built.
        _byType.Add(topology => _byEntityName[topology.GetMessageTopology<T>().EntityName] = policy);
    }

    public void MessageType<T>(RedisStreamsRetentionPolicy policy, bool archive)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(policy);

        _byType.Add(topology =>
        {
            var entityName = topology.GetMessageTopology<T>().EntityName;
            _byEntityName[entityName] = policy;
            _archiveByEntityName[entityName] = archive;
        });
    }

    public void EntityName(string entityName, RedisStreamsRetentionPolicy policy, bool archive)
    {
        EntityName(entityName, policy);
        _archiveByEntityName[entityName] = archive;
    }

    public void EntityName(string entityName, RedisStreamsRetentionPolicy policy)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(entityName);
        ArgumentNullException.ThrowIfNull(policy);

        _byEntityName[entityName] = policy;
    }

    /// <summary>Resolves the per-type policies against the bus's message topology.</summary>
    public void Apply(IMessageTopology topology)
    {
        foreach (var apply in _byType)
            apply(topology);

        _byType.Clear();
    }

    /// <summary>The policy of the event stream of <paramref name="entityName" />.</summary>
    public RedisStreamsRetentionPolicy ForEvents(string entityName, RedisStreamsStreamKind kind)
    {
        return _byEntityName.TryGetValue(entityName, out var policy) ? policy : kind == RedisStreamsStreamKind.Faults ? Faults : Events;
    }

    public IEnumerable<ValidationResult> Validate()
    {
        if (Interval < TimeSpan.FromSeconds(1))
            yield return this.Failure("Retention.Interval", $"must be at least 1 second (was {Interval}).");
        if (StreamsPerPass < 1)
            yield return this.Failure("Retention.StreamsPerPass", $"must be at least 1 (was {StreamsPerPass}).");
        if (TemporaryGroupExpiry < TimeSpan.FromMinutes(1))
            yield return this.Failure("Retention.TemporaryGroupExpiry", $"must be at least 1 minute (was {TemporaryGroupExpiry}).");
        if (InactiveGroupExpiry is { } inactive && inactive < TimeSpan.FromMinutes(10))
        {
            yield return this.Failure("Retention.InactiveGroupExpiry",
                $"must be at least 10 minutes, twice the longest IdlePollInterval, so that a live endpoint is never taken for gone (was {inactive}); leave it null to keep such groups.");
        }
        if (Archive == null && _archiveByEntityName.Any(x => x.Value))
        {
            yield return this.Failure("Retention.Archive", "is needed to archive "
                + string.Join(", ", _archiveByEntityName.Where(x => x.Value).Select(x => x.Key)) + ": set r.Archive(...) (or r.ArchiveToDirectory, r.ArchiveToS3).");
        }
        foreach (var (name, value) in new[] { ("Events", Events), ("Faults", Faults), ("Queues", Queues), ("DeadLetters", DeadLetters) })
        {
            if (value == null)
                yield return this.Failure("Retention." + name, "must not be null; use RedisStreamsRetentionPolicy.KeepAll to keep everything.");
        }
    }
}
