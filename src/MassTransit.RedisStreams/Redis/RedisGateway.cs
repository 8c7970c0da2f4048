namespace MassTransit.RedisStreams.Redis;

/// <summary>
/// Every Redis capability of a bus (or of an admin, a history or the command line), made once from one connection and one
/// key layout. Nothing outside this folder sends a Redis command; each class is handed only the capabilities it uses.
/// </summary>
sealed class RedisGateway
{
    public RedisGateway(RedisConnection connection, StreamKeys keys, AppendOptions appendOptions = default)
    {
        Keys = keys;

        Appends = new StreamAppends(connection, keys, appendOptions);
        Groups = new GroupReads(connection, keys);
        Pending = new PendingLists(connection);
        Wake = new WakeChannels(connection, keys);
        Delayed = new DelayedStore(connection, keys);
        Types = new TypeRegistry(connection, keys, Wake);
        Leases = new Leases(connection, keys);
        Trimming = new StreamTrimming(connection);
        Admin = new StreamAdmin(connection, keys);
        Hosts = new HostRecordStore(connection, keys);
        Migration = new KeyMigration(connection, keys);
        Statistics = new GroupStatistics(connection);
        Moves = new StreamMoves(connection, keys, Appends);
        Archives = new ArchiveMarks(connection, keys);
    }

    public StreamKeys Keys { get; }

    public IStreamAppends Appends { get; }
    public IGroupReads Groups { get; }
    public IPendingLists Pending { get; }
    public IWakeChannels Wake { get; }
    public IDelayedStore Delayed { get; }
    public ITypeRegistry Types { get; }
    public ILeases Leases { get; }
    public IStreamTrimming Trimming { get; }
    public IStreamAdmin Admin { get; }
    public IHostRecordStore Hosts { get; }
    public IKeyMigration Migration { get; }
    public IGroupStatistics Statistics { get; }
    public IStreamMoves Moves { get; }
    public IArchiveMarks Archives { get; }
}
