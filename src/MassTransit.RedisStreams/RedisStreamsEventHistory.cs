namespace MassTransit;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using MassTransit.Topology;
using RedisStreams.Configuration;
using RedisStreams.History;
using RedisStreams.Redis;
using StackExchange.Redis;
using RedisStreams.Transport;


/// <summary>
/// <see cref="IRedisStreamsEventHistory" /> over a connection and a key prefix. <c>UsingRedisStreams</c> registers one bound to the bus;
/// create one yourself to read the log of a bus from elsewhere, with a connection of your own.
/// </summary>
public sealed class RedisStreamsEventHistory :
    IRedisStreamsEventHistory
{
    readonly RedisGateway _redis;
    readonly EventDecoder _decoder;
    readonly StreamInspector _inspector;
    readonly EventLogReader _reader;
    readonly EventReplayer _replayer;
    readonly IMessageTopology _topology;
    readonly EventUpgrades _upgrades;

    /// <summary>
    /// Reads the log of the bus whose key prefix is <paramref name="keyPrefix" /> through <paramref name="multiplexer" />, which
    /// stays the caller's: it is never closed or disposed here. Messages are read with MassTransit's JSON serializers (the
    /// envelope, raw JSON and the transport's own format).
    /// </summary>
    /// <param name="multiplexer">An open connection, owned by the caller.</param>
    /// <param name="keyPrefix">The bus's <see cref="RedisStreamsTransportOptions.KeyPrefix" />, if it has one.</param>
    public RedisStreamsEventHistory(IConnectionMultiplexer multiplexer, string? keyPrefix = null)
        : this(new RedisGateway(new RedisConnection(multiplexer, observe: false), new StreamKeys(keyPrefix)),
            new MessageTopology(RedisStreamsTopologyConfiguration.EntityNameFormatter), null, new EventUpgrades(),
            RedisStreamsHostAddress.FromConfiguration(ConfigurationOptions.Parse(multiplexer.Configuration), StreamKeys.NormalizePrefix(keyPrefix)))
    {
    }

    /// <param name="redis">The gateway.</param>
    /// <param name="topology">Names the event stream of each message type.</param>
    /// <param name="serialization">The bus's deserializers; null for MassTransit's JSON ones and the transport's own format.</param>
    /// <param name="upgrades">The registered upgrades of older contracts.</param>
    /// <param name="host">The bus's host address, from which the destination addresses of stored events are made.</param>
    internal RedisStreamsEventHistory(RedisGateway redis, IMessageTopology topology, ISerialization? serialization, EventUpgrades upgrades,
        RedisStreamsHostAddress host)
    {
        _redis = redis;
        _topology = topology;
        _upgrades = upgrades;
        _reader = new EventLogReader(redis.Admin, redis.Archives);
        var hosts = new HostRecords(redis.Hosts, () => null);
        _decoder = new EventDecoder(serialization, upgrades, hosts,
            (stream, entry) => EntryAddresses.DestinationOf(entry, stream, redis.Keys, host));
        _inspector = new StreamInspector(redis);
        _replayer = new EventReplayer(redis.Appends, redis.Keys, _reader, _decoder, hosts);
    }

    /// <summary>
    /// Reads the entries retention archived to <paramref name="archive" /> with the streams, as one history: the bus's
    /// <see cref="IRedisStreamsRetentionConfigurator.Archive" />. The history <c>UsingRedisStreams</c> registers reads the bus's
    /// archive already.
    /// </summary>
    /// <returns>This history.</returns>
    public RedisStreamsEventHistory WithArchive(IRedisStreamsArchive archive)
    {
        ArgumentNullException.ThrowIfNull(archive);

        _reader.Archive = archive;
        return this;
    }

    /// <summary>The archive read with the streams, or null.</summary>
    internal IRedisStreamsArchive? Archive => _reader.Archive;

    /// <summary>
    /// Reads events stored as <typeparamref name="TOld" /> as <typeparamref name="TNew" /> too, through
    /// <paramref name="upgrade" />; see <see cref="IRedisStreamsBusFactoryConfigurator.UpgradeEvent{TOld,TNew}" />.
    /// </summary>
    /// <returns>This history, to chain further upgrades.</returns>
    public RedisStreamsEventHistory UpgradeEvent<TOld, TNew>(Func<TOld, TNew> upgrade)
        where TOld : class
        where TNew : class
    {
        _upgrades.Add(upgrade);
        return this;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RedisStreamsStoredEvent<T>>> GetEvents<T>(int count = 10, RedisStreamsPosition? from = null, RedisStreamsPosition? to = null,
        CancellationToken cancellationToken = default)
        where T : class
    {
        if (count < 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, "The count must not be negative.");

        var events = new List<RedisStreamsStoredEvent<T>>(Math.Min(count, 1000));
        if (count == 0)
            return events;

        var streams = await GetStreams<T>().ConfigureAwait(false);
        await foreach (var (stream, entry) in _reader.Read(streams, First(from), Last(to), newestFirst: true, cancellationToken).ConfigureAwait(false))
        {
            events.Add(_decoder.Decode<T>(stream, entry));
            if (events.Count == count)
                break;
        }

        return events;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<RedisStreamsStoredEvent<T>> ReadEvents<T>(RedisStreamsPosition? from = null, RedisStreamsPosition? to = null, long? count = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where T : class
    {
        if (count is < 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, "The count must not be negative.");

        long read = 0;
        if (count == 0)
            yield break;

        var streams = await GetStreams<T>().ConfigureAwait(false);
        await foreach (var (stream, entry) in _reader.Read(streams, First(from), Last(to), newestFirst: false, cancellationToken).ConfigureAwait(false))
        {
            yield return _decoder.Decode<T>(stream, entry);

            if (++read == count)
                yield break;
        }
    }

    /// <inheritdoc />
    public Task<RedisStreamsStreamInfo> GetStreamInfo<T>(CancellationToken cancellationToken = default)
        where T : class
    {
        return GetStreamInfo(EntityName<T>());
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RedisStreamsStreamInfo>> GetOverview(CancellationToken cancellationToken = default)
    {
        return _inspector.Overview();
    }

    /// <inheritdoc />
    public async Task<long> Replay<T>(string toEndpoint, RedisStreamsPosition? from = null, RedisStreamsPosition? to = null, long? count = null,
        IProgress<long>? progress = null, CancellationToken cancellationToken = default)
        where T : class
    {
        if (count is < 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, "The count must not be negative.");

        var streams = await GetStreams<T>().ConfigureAwait(false);
        await EnsureConsumes(toEndpoint, streams, TypeCache<T>.ShortName).ConfigureAwait(false);

        return await _replayer.Replay<T>(toEndpoint, streams, First(from), await LastNow(streams, to).ConfigureAwait(false), count, progress,
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, long>> ReplayToConsumers<T>(RedisStreamsPosition? from = null, RedisStreamsPosition? to = null,
        long? count = null, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
        where T : class
    {
        var streams = await GetStreams<T>().ConfigureAwait(false);
        var last = await LastNow(streams, to).ConfigureAwait(false);

        var endpoints = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var stream in await GetOwnStreams<T>().ConfigureAwait(false))
        {
            foreach (var group in await _redis.Admin.GetGroups(stream).ConfigureAwait(false))
            {
                if (await _redis.Admin.Exists(_redis.Keys.Queue(group.Name)).ConfigureAwait(false))
                    endpoints.Add(group.Name);
            }
        }

        var replayed = new Dictionary<string, long>(StringComparer.Ordinal);
        long total = 0;
        foreach (var endpoint in endpoints)
        {
            var before = total;
            var endpointProgress = progress == null ? null : new Progress<long>(x => progress.Report(before + x));

            replayed[endpoint] = await _replayer.Replay<T>(endpoint, streams, First(from), last, count, endpointProgress, cancellationToken)
                .ConfigureAwait(false);
            total += replayed[endpoint];
        }

        return replayed;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, string>> Rewind(string endpoint, RedisStreamsPosition to, CancellationToken cancellationToken = default)
    {
        var problem = StreamKeys.DescribeInvalidName(endpoint);
        if (problem != null)
            throw new ArgumentException($"The endpoint name '{endpoint}' {problem}", nameof(endpoint));

        var moved = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (stream, _, position) in await PlanRewind(endpoint, to, cancellationToken).ConfigureAwait(false))
        {
            cancellationToken.ThrowIfCancellationRequested();

            await _redis.Admin.SetGroupPosition(stream, endpoint, position).ConfigureAwait(false);
            var group = (await _redis.Admin.GetGroups(stream).ConfigureAwait(false)).First(x => x.Name == endpoint);
            moved[stream.ToString()] = group.LastDeliveredId ?? position.ToString();

            // Idle instances of the endpoint read at once, rather than at their next poll.
            await _redis.Wake.Announce(stream, WakeReason.Entries).ConfigureAwait(false);
        }

        return moved;
    }

    /// <summary>
    /// Where <see cref="Rewind" /> would set <paramref name="endpoint" />'s group: every event stream it reads, with where the group
    /// stands now and the position it would be set to (<c>$</c>, <c>0</c> or the entry before the first to deliver).
    /// </summary>
    internal async Task<IReadOnlyList<(RedisKey Stream, string? Now, RedisValue Position)>> PlanRewind(string endpoint, RedisStreamsPosition to,
        CancellationToken cancellationToken = default)
    {
        var problem = StreamKeys.DescribeInvalidName(endpoint);
        if (problem != null)
            throw new ArgumentException($"The endpoint name '{endpoint}' {problem}", nameof(endpoint));

        // The group stands at the entry before the first one to deliver: XREADGROUP delivers what comes after it.
        var first = to.First;
        RedisValue position = first == StreamEntryId.Max ? "$" : first == StreamEntryId.Zero ? "0" : first.Previous.ToString();

        var plan = new List<(RedisKey Stream, string? Now, RedisValue Position)>();
        foreach (var stream in await _redis.Admin.ScanAllStreams(_redis.Keys.EventsPattern).ConfigureAwait(false))
        {
            cancellationToken.ThrowIfCancellationRequested();

            var group = (await _redis.Admin.GetGroups(stream).ConfigureAwait(false)).FirstOrDefault(x => x.Name == endpoint);
            if (group.Name != null)
                plan.Add((stream, group.LastDeliveredId, position));
        }

        if (plan.Count == 0)
        {
            throw new ArgumentException(
                $"The endpoint '{endpoint}' reads no event stream under this key prefix: no stream has a consumer group of that name.", nameof(endpoint));
        }

        return plan.OrderBy(x => x.Stream.ToString(), StringComparer.Ordinal).ToList();
    }

    string EntityName<T>()
        where T : class
    {
        return _topology.GetMessageTopology<T>().EntityName;
    }

    /// <summary>The stream of <typeparamref name="T" /> and those of the types derived from it.</summary>
    Task<RedisKey[]> GetOwnStreams<T>()
        where T : class
    {
        return GetOwnStreams(EntityName<T>());
    }

    /// <summary>The event stream of <paramref name="entityName" /> and those of the types derived from its type.</summary>
    internal async Task<RedisKey[]> GetOwnStreams(string entityName)
    {
        var stream = _redis.Keys.Events(entityName);
        return [stream, ..await _redis.Types.GetSources(stream).ConfigureAwait(false)];
    }

    /// <summary>The stored entries of <paramref name="entityName" />'s streams, as they are: for the command line, which has no types.</summary>
    internal async IAsyncEnumerable<(RedisKey Stream, StreamEntry Entry)> ReadStored(string entityName, RedisStreamsPosition? from, RedisStreamsPosition? to,
        bool newestFirst, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var streams = await GetOwnStreams(entityName).ConfigureAwait(false);
        await foreach (var item in _reader.Read(streams, First(from), Last(to), newestFirst, cancellationToken).ConfigureAwait(false))
            yield return item;
    }

    /// <summary>Describes the event stream of <paramref name="entityName" />.</summary>
    internal Task<RedisStreamsStreamInfo> GetStreamInfo(string entityName)
    {
        return _inspector.Describe(_redis.Keys.Events(entityName), entityName, StreamInspector.EventKind(entityName));
    }

    /// <summary><see cref="Replay{T}" /> by entity name, of the entries as they are: for the command line.</summary>
    internal async Task<long> ReplayStored(string entityName, string toEndpoint, RedisStreamsPosition? from, RedisStreamsPosition? to, long? count,
        IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var streams = await GetOwnStreams(entityName).ConfigureAwait(false);
        await EnsureConsumes(toEndpoint, streams, entityName).ConfigureAwait(false);

        return await _replayer.ReplayAsStored(toEndpoint, streams, First(from), await LastNow(streams, to).ConfigureAwait(false), count, progress,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// What <see cref="ReplayStored" /> would replay, changing nothing: the queue it would append to, how many events, the first
    /// and last of them, and the newest position to read to (to pass as <c>to</c>, so that what is replayed is what was planned).
    /// </summary>
    internal async Task<(RedisKey Queue, long Count, string? First, string? Last, StreamEntryId Until)> PlanReplayStored(string entityName,
        string toEndpoint, RedisStreamsPosition? from, RedisStreamsPosition? to, long? count, CancellationToken cancellationToken)
    {
        var streams = await GetOwnStreams(entityName).ConfigureAwait(false);
        await EnsureConsumes(toEndpoint, streams, entityName).ConfigureAwait(false);
        var until = await LastNow(streams, to).ConfigureAwait(false);

        long found = 0;
        string? first = null, last = null;
        await foreach (var (_, entry) in _reader.Read(streams, First(from), until, newestFirst: false, cancellationToken).ConfigureAwait(false))
        {
            if (count.HasValue && found >= count.Value)
                break;

            first ??= entry.Id;
            last = entry.Id;
            found++;
        }

        return (_redis.Keys.Queue(toEndpoint), found, first, last, until);
    }

    /// <summary>
    /// Where the events of <typeparamref name="T" /> are: its own streams, and those of the older contracts that upgrade to it.
    /// </summary>
    async Task<RedisKey[]> GetStreams<T>()
        where T : class
    {
        var streams = new List<RedisKey>(await GetOwnStreams<T>().ConfigureAwait(false));
        foreach (var upgrade in _upgrades.For<T>())
        {
            var stream = _redis.Keys.Events(upgrade.GetOldEntityName(_topology));
            streams.Add(stream);
            streams.AddRange(await _redis.Types.GetSources(stream).ConfigureAwait(false));
        }

        return streams.Distinct().ToArray();
    }

    async Task EnsureConsumes(string endpoint, RedisKey[] streams, string what)
    {
        var problem = StreamKeys.DescribeInvalidName(endpoint);
        if (problem != null)
            throw new ArgumentException($"The endpoint name '{endpoint}' {problem}", nameof(endpoint));

        if (!await _redis.Admin.Exists(_redis.Keys.Queue(endpoint)).ConfigureAwait(false))
        {
            throw new ArgumentException($"There is no receive endpoint '{endpoint}' under this key prefix: its queue stream "
                + $"{_redis.Keys.Queue(endpoint)} does not exist. Check the name, or start the endpoint once.", nameof(endpoint));
        }

        foreach (var stream in streams)
        {
            if ((await _redis.Admin.GetGroups(stream).ConfigureAwait(false)).Any(x => x.Name == endpoint))
                return;
        }

        throw new ArgumentException($"The endpoint '{endpoint}' does not consume {what}: it has no consumer group on {streams[0]}.",
            nameof(endpoint));
    }

    /// <summary>The newest position to read to: <paramref name="to" />, or the newest entry of the streams now.</summary>
    async Task<StreamEntryId> LastNow(IEnumerable<RedisKey> streams, RedisStreamsPosition? to)
    {
        if (to is { } position && position != RedisStreamsPosition.End)
            return position.Last;

        var last = StreamEntryId.Zero;
        foreach (var stream in streams)
        {
            var newest = await _redis.Admin.Range(stream, "-", "+", 1, newestFirst: true).ConfigureAwait(false);
            if (newest.Length > 0 && StreamEntryId.Parse(newest[0].Id) is var id && id > last)
                last = id;
            // A stream that retention archived whole ends at its mark.
            else if (newest.Length == 0 && _reader.Archive != null && await _redis.Archives.Get(stream).ConfigureAwait(false) is { } mark && mark > last)
                last = mark;
        }

        return last;
    }

    static StreamEntryId First(RedisStreamsPosition? from) => from?.First ?? StreamEntryId.Zero;

    static StreamEntryId Last(RedisStreamsPosition? to) => to?.Last ?? StreamEntryId.Max;
}
