namespace MassTransit.RedisStreams.Transport;

using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Configuration;
using Diagnostics;
using Redis;
using Retention;
using Scheduling;
using StackExchange.Redis;
using Support;
using Topology;


/// <summary>
/// What the bus's endpoints share: the connection, the gateway, the settings, this instance's consumer name and the record
/// of which publish topologies are already in Redis.
/// </summary>
sealed class RedisStreamsBusContext
{
    readonly ConcurrentDictionary<string, Lazy<Task>> _publishTopologies;

    public RedisStreamsBusContext(RedisStreamsHostConfiguration hostConfiguration)
    {
        var settings = hostConfiguration.Settings;

        HostConfiguration = hostConfiguration;
        Settings = settings;
        Connection = settings.CreateConnection();
        // The bus's error and dead-letter queue name formatters name every endpoint's _error and _skipped streams.
        var sendTopology = hostConfiguration.Topology.SendTopology;
        Redis = new RedisGateway(Connection, new StreamKeys(settings.KeyPrefix, sendTopology.ErrorQueueNameFormatter, sendTopology.DeadLetterQueueNameFormatter),
            new AppendOptions(settings.WaitForReplicas, settings.WaitForReplicasTimeout, settings.DuplicateDetectionWindow));
        Readers = new BlockingReads(Connection, settings.MaxReaderConnections, settings.IdlePollInterval);
        HostAddress = settings.HostAddress;
        Identity = new ConsumerIdentity(Redis.Leases, settings.ConsumerName, Time);
        Hosts = new HostRecords(Redis.Hosts, () => hostConfiguration.BusEndpointAddress, hostConfiguration.Retention.HostRecordHold, Time);

        _publishTopologies = new ConcurrentDictionary<string, Lazy<Task>>();
        hostConfiguration.Retention.Apply(hostConfiguration.MessageTopology);
        Trimmer = new StreamTrimmer(Redis, hostConfiguration.Retention, Time);

        _history = new Lazy<RedisStreamsEventHistory>(() =>
            WithArchive(new RedisStreamsEventHistory(Redis, hostConfiguration.MessageTopology, hostConfiguration.CreateSerialization(),
                hostConfiguration.Upgrades, HostAddress), hostConfiguration.Retention.Archive));
    }

    readonly Lazy<RedisStreamsEventHistory> _history;

    static RedisStreamsEventHistory WithArchive(RedisStreamsEventHistory history, IRedisStreamsArchive? archive) =>
        archive == null ? history : history.WithArchive(archive);

    /// <summary>Applies the bus's retention policies.</summary>
    public StreamTrimmer Trimmer { get; }

    readonly object _agentsLock = new();
    IAgent[]? _backgroundAgents;

    /// <summary>The running delayed message pump; null while the bus is stopped.</summary>
    public DelayedMessagePump? DelayedMessages { get; private set; }

    /// <summary>
    /// Starts what the bus runs in the background while it is started, unless it runs already: the delayed message pump,
    /// and the retention pass when retention is enabled.
    /// </summary>
    public void StartBackgroundAgents()
    {
        lock (_agentsLock)
        {
            if (_backgroundAgents != null)
                return;

            DelayedMessages = new DelayedMessagePump(this);
            var sampler = new EndpointSampler(Endpoints, Redis.Statistics, Settings.MetricsSampleInterval, Time);
            _backgroundAgents = HostConfiguration.Retention.Enabled ? [DelayedMessages, sampler, new RetentionAgent(this)] : [DelayedMessages, sampler];
        }
    }

    /// <summary>Takes the running background agents, for the host to stop them with the bus.</summary>
    public IAgent[] TakeBackgroundAgents()
    {
        lock (_agentsLock)
        {
            var agents = _backgroundAgents ?? [];
            _backgroundAgents = null;
            DelayedMessages = null;
            return agents;
        }
    }

    /// <summary>The bus's receiving endpoints, for metrics and health.</summary>
    public EndpointMonitors Endpoints { get; } = new();

    /// <summary>The bus's event log, with its serializers and registered upgrades.</summary>
    public RedisStreamsEventHistory History => _history.Value;

    public RedisStreamsHostConfiguration HostConfiguration { get; }
    public RedisStreamsHostSettings Settings { get; }
    public RedisConnection Connection { get; }

    /// <summary>The connections of the endpoints' blocking reads, one per endpoint up to a limit; closed when the bus stops.</summary>
    public BlockingReads Readers { get; }

    /// <summary>Every Redis command the bus sends, by capability.</summary>
    public RedisGateway Redis { get; }

    public StreamKeys Keys => Redis.Keys;

    /// <summary>The clock of every interval and timeout the transport keeps.</summary>
    public TimeProvider Time { get; } = TimeProvider.System;
    public RedisStreamsHostAddress HostAddress { get; }
    public ConsumerIdentity Identity { get; }

    /// <summary>This process's host record, and those of the processes whose entries the bus reads.</summary>
    public HostRecords Hosts { get; }

    /// <summary>This instance's consumer name; valid once an endpoint has started.</summary>
    public string ConsumerName => Identity.Name;

    /// <summary>The message types spread over partition streams.</summary>
    public MessagePartitioning Partitions => HostConfiguration.Partitions;

    /// <summary>
    /// Before the first publish of a type: records the type's stream as a source of each type it implements and creates the
    /// consumer groups of those types' subscribers on it, so that a consumer of a base type misses none of its events. A
    /// partitioned type records each of its partition streams so, as a source of the type itself too. Done once per entity
    /// name; a failed attempt is tried again by the next publish.
    /// </summary>
    public Task EnsurePublishTopology<T>(RedisStreamsMessagePublishTopology<T> topology)
        where T : class
    {
        var lazy = _publishTopologies.GetOrAdd(topology.EntityName, _ => new Lazy<Task>(() => DeclarePublishTopology(topology)));

        var task = lazy.Value;
        if (task.IsFaulted || task.IsCanceled)
        {
            _publishTopologies.TryRemove(new(topology.EntityName, lazy));
            lazy = _publishTopologies.GetOrAdd(topology.EntityName, _ => new Lazy<Task>(() => DeclarePublishTopology(topology)));
            task = lazy.Value;
        }

        return task;
    }

    async Task DeclarePublishTopology<T>(RedisStreamsMessagePublishTopology<T> topology)
        where T : class
    {
        var stream = Keys.Events(topology.EntityName);
        var partitioner = Partitions.For<T>();

        // The partitions are sources of the type itself, as a derived type's stream is of its base, and of every type it
        // implements, flat: a subscriber reads a type's stream and its sources, never the sources of a source.
        var sources = partitioner == null ? [stream] : partitioner.Streams(Keys, topology.EntityName);
        var types = partitioner == null ? topology.GetImplementedEntityNames() : topology.GetImplementedEntityNames().Prepend(topology.EntityName);

        async Task Declare(string implementedEntityName, RedisKey source)
        {
            HashEntry[] subscribers = await Redis.Types.AddSource(Keys.Events(implementedEntityName), source).ConfigureAwait(false);

            await Task.WhenAll(subscribers.Select(x => Redis.Groups.CreateGroup(source, x.Name!, x.Value))).ConfigureAwait(false);
        }

        await RedisRetry.Send(() => Task.WhenAll(types.SelectMany(type => sources.Select(source => Declare(type, source)))), Settings.SendTimeout,
            stream.ToString(), CancellationToken.None).ConfigureAwait(false);
    }
}
