namespace MassTransit.RedisStreams.Transport;

using System.Threading;
using StackExchange.Redis;


/// <summary>
/// One stream a receive endpoint reads through its consumer group, and what the endpoint knows about it.
/// </summary>
sealed class ReceiveStream
{
    long _drainedAt = -1;
    long _wakes;

    public ReceiveStream(RedisKey key, bool isQueue, AckBatcher acknowledgements)
    {
        Key = key;
        IsQueue = isQueue;
        Acknowledgements = acknowledgements;
        LastReadId = RedisValue.Null;
    }

    public RedisKey Key { get; }

    /// <summary>The endpoint's own queue stream, as opposed to an event stream it subscribes to.</summary>
    public bool IsQueue { get; }

    public AckBatcher Acknowledgements { get; }

    /// <summary>The highest entry ID read so far; a group lost with Redis data is created again from here.</summary>
    public RedisValue LastReadId { get; set; }

    /// <summary>
    /// False only while the last read returned less than it asked for and no wake-up came since; such a stream is skipped
    /// until something may have been appended.
    /// </summary>
    public bool MaybeHasEntries => Volatile.Read(ref _wakes) != Volatile.Read(ref _drainedAt);

    /// <summary>Something may have been appended: the next read includes this stream.</summary>
    public void Wake() => Interlocked.Increment(ref _wakes);

    /// <summary>Taken before a read; pass it to <see cref="MarkDrained" /> when the read came back short.</summary>
    public long ReadVersion => Volatile.Read(ref _wakes);

    /// <summary>
    /// The read taken at <paramref name="readVersion" /> came back short. A wake-up that arrived during the read keeps the
    /// stream readable, since its entry may have been appended after the read.
    /// </summary>
    public void MarkDrained(long readVersion) => Volatile.Write(ref _drainedAt, readVersion);
}
