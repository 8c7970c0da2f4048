namespace MassTransit.RedisStreams.Transport;

using System;
using Redis;
using StackExchange.Redis;
using Support;


/// <summary>
/// One stream a receive endpoint reads through its consumer group, and what the endpoint knows about it.
/// </summary>
sealed class ReceiveStream
{
    public ReceiveStream(RedisKey key, bool isQueue)
    {
        Key = key;
        IsQueue = isQueue;
        LastReadId = RedisValue.Null;
    }

    public RedisKey Key { get; }

    /// <summary>The endpoint's own queue stream, as opposed to an event stream it subscribes to.</summary>
    public bool IsQueue { get; }

    /// <summary>The highest entry ID read so far; a group lost with Redis data is created again from here.</summary>
    public RedisValue LastReadId { get; set; }

    /// <summary>
    /// What the endpoint's reader knows of the entries of this stream it has not read yet: each is newer than this ID. Zero
    /// until the stream is first read.
    /// </summary>
    public StreamEntryId UnreadAfter { get; set; }

    /// <summary>The last read of this stream took everything there was.</summary>
    public bool Drained { get; set; }

    /// <summary>
    /// Where an entry read from this stream was sent, unless it says otherwise (see <see cref="EntryAddresses" />); made on first
    /// use. The endpoint's input address never changes, so neither does this.
    /// </summary>
    internal Uri? Address;

    /// <summary>The acknowledgements of this stream's entries, batched; made by the <see cref="Acknowledger" /> on first use.</summary>
    internal Batcher<Acknowledger.Acknowledgement>? Acknowledgements;
}
