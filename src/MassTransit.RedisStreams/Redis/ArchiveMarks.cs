namespace MassTransit.RedisStreams.Redis;

using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// The archive mark of each archived stream, <c>{&lt;stream&gt;}:archived</c>: the ID of its newest entry in the archive. Entries
/// up to it are read from the archive and removed from the stream; those after it are read from the stream.
/// </summary>
interface IArchiveMarks
{
    /// <summary>The mark of <paramref name="stream" />, or null when nothing of it was archived.</summary>
    Task<StreamEntryId?> Get(RedisKey stream);

    /// <summary>Moves the mark forward to <paramref name="id" /> (never back); returns the mark (<c>archive-mark.lua</c>).</summary>
    Task<StreamEntryId> Advance(RedisKey stream, StreamEntryId id);

    /// <summary>
    /// Removes the entries at or below the mark, except those a consumer group still needs (<c>archive-mark.lua</c>).
    /// </summary>
    /// <returns>The entries removed, and the group that kept some, or null.</returns>
    Task<(long Removed, string? KeptFor)> TrimArchived(RedisKey stream);
}


/// <inheritdoc />
sealed class ArchiveMarks :
    IArchiveMarks
{
    readonly RedisConnection _connection;
    readonly StreamKeys _keys;

    public ArchiveMarks(RedisConnection connection, StreamKeys keys)
    {
        _connection = connection;
        _keys = keys;
    }

    public async Task<StreamEntryId?> Get(RedisKey stream)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        var value = await database.StringGetAsync(_keys.Archived(stream)).ConfigureAwait(false);

        return value.IsNull ? null : StreamEntryId.Parse(value);
    }

    public async Task<StreamEntryId> Advance(RedisKey stream, StreamEntryId id)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        var mark = await RedisScript.ArchiveMark.Evaluate(database, [stream, _keys.Archived(stream)], ["mark", id.ToString()]).ConfigureAwait(false);

        return StreamEntryId.Parse((RedisValue)mark);
    }

    public async Task<(long Removed, string? KeptFor)> TrimArchived(RedisKey stream)
    {
        var database = await _connection.GetDatabase().ConfigureAwait(false);
        var result = (RedisResult[])(await RedisScript.ArchiveMark.Evaluate(database, [stream, _keys.Archived(stream)], ["trim"]).ConfigureAwait(false))!;

        var keptFor = (string?)result[2];
        return ((long)result[0], string.IsNullOrEmpty(keptFor) ? null : keptFor);
    }
}
