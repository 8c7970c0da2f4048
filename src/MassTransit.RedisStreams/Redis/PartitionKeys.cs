namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using StackExchange.Redis;


/// <summary>
/// The names of the partition streams of a message type, and the hash that picks a key's partition (see
/// docs/history-and-replay.md, Partitions).
/// </summary>
/// <remarks>
/// Partition <c>i</c> of <c>N</c> of entity <c>E</c> is <c>events:E:p&lt;i&gt;of&lt;N&gt;</c> when the hash slot of its full key
/// falls in the <c>i</c>-th of <c>N</c> equal ranges of the 16384 slots, otherwise <c>events:E:p&lt;i&gt;of&lt;N&gt;.&lt;j&gt;</c>
/// for the least <c>j</c> that does. Every instance computes the same names without coordination, and on a cluster whose slots
/// are split evenly among its primaries (as <c>redis-cli --cluster create</c> does), the partitions land on as many primaries
/// as they can. An entity name has no colon in its last segment for this to be told apart: the marker is
/// <c>:p&lt;i&gt;of&lt;N&gt;</c>, which a MassTransit entity name never ends with.
/// </remarks>
static class PartitionKeys
{
    public const int MaxPartitions = 1024;

    /// <summary>
    /// The entry field that carries the partition key a publisher chose with a key of its own, so that the consumer keeps the
    /// entries of that key in order; without it, the key is the entry's CorrelationId.
    /// </summary>
    public const string KeyHeader = "RedisStreams-PartitionKey";
    public const int SlotCount = 16384;

    static readonly ConcurrentDictionary<(string Prefix, string Entity, int Count), RedisKey[]> Cache = new();

    /// <summary>The partition streams of <paramref name="entityName" /> when it is split into <paramref name="count" />.</summary>
    public static RedisKey[] Streams(StreamKeys keys, string entityName, int count)
    {
        return Cache.GetOrAdd((keys.Prefix, entityName, count), x =>
        {
            var streams = new RedisKey[x.Count];
            for (var i = 0; i < x.Count; i++)
                streams[i] = keys.Events(EntityName(keys, x.Entity, i, x.Count));
            return streams;
        });
    }

    /// <summary>The entity name of partition <paramref name="index" /> of <paramref name="count" />, as it is after <c>events:</c>.</summary>
    static string EntityName(StreamKeys keys, string entityName, int index, int count)
    {
        var first = (int)((long)index * SlotCount / count);
        var end = (int)((long)(index + 1) * SlotCount / count);
        var name = entityName + ":p" + index.ToString(CultureInfo.InvariantCulture) + "of" + count.ToString(CultureInfo.InvariantCulture);

        for (var j = 0;; j++)
        {
            var candidate = j == 0 ? name : name + "." + j.ToString(CultureInfo.InvariantCulture);
            var slot = Slot(keys.Events(candidate).ToString());
            if (slot >= first && slot < end)
                return candidate;
        }
    }

    /// <summary>
    /// The partition of <paramref name="key" /> among <paramref name="count" />: the 32-bit FNV-1a hash of its UTF-8 bytes,
    /// modulo the count. Documented, so that other programs can compute it.
    /// </summary>
    public static int Partition(string key, int count)
    {
        return (int)(Fnv1a(key) % (uint)count);
    }

    /// <summary>The 32-bit FNV-1a hash of the UTF-8 bytes of <paramref name="text" />.</summary>
    public static uint Fnv1a(string text)
    {
        const uint offsetBasis = 2166136261;
        const uint prime = 16777619;

        var length = Encoding.UTF8.GetByteCount(text);
        Span<byte> bytes = length <= 256 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(text, bytes);

        var hash = offsetBasis;
        foreach (var b in bytes)
        {
            hash ^= b;
            hash *= prime;
        }

        return hash;
    }

    /// <summary>
    /// The Redis Cluster hash slot of <paramref name="key" />: CRC16 (XMODEM) of the key, or of its hash tag when it has one,
    /// modulo 16384, as <c>CLUSTER KEYSLOT</c> gives it.
    /// </summary>
    public static int Slot(string key)
    {
        var bytes = Encoding.UTF8.GetBytes(key);
        var span = bytes.AsSpan();

        var open = span.IndexOf((byte)'{');
        if (open >= 0)
        {
            var close = span[(open + 1)..].IndexOf((byte)'}');
            if (close > 0)
                span = span.Slice(open + 1, close);
        }

        return Crc16(span) & (SlotCount - 1);
    }

    static int Crc16(ReadOnlySpan<byte> bytes)
    {
        var crc = 0;
        foreach (var b in bytes)
        {
            crc ^= b << 8;
            for (var bit = 0; bit < 8; bit++)
                crc = (crc & 0x8000) != 0 ? ((crc << 1) ^ 0x1021) & 0xFFFF : (crc << 1) & 0xFFFF;
        }

        return crc;
    }

    /// <summary>
    /// When <paramref name="entityName" /> names a partition stream (<c>E:p&lt;i&gt;of&lt;N&gt;</c> or
    /// <c>E:p&lt;i&gt;of&lt;N&gt;.&lt;j&gt;</c>), its type's entity name, index and count.
    /// </summary>
    public static bool TryParse(string entityName, out string typeEntityName, out int index, out int count)
    {
        typeEntityName = "";
        index = 0;
        count = 0;

        var colon = entityName.LastIndexOf(":p", StringComparison.Ordinal);
        if (colon <= 0)
            return false;

        var rest = entityName.AsSpan(colon + 2);
        var of = rest.IndexOf("of", StringComparison.Ordinal);
        if (of <= 0)
            return false;

        var countText = rest[(of + 2)..];
        var dot = countText.IndexOf('.');
        if (dot >= 0)
        {
            if (!IsDigits(countText[(dot + 1)..]))
                return false;
            countText = countText[..dot];
        }

        if (!IsDigits(rest[..of]) || !IsDigits(countText)
            || !int.TryParse(rest[..of], NumberStyles.None, CultureInfo.InvariantCulture, out index)
            || !int.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out count)
            || count < 1 || count > MaxPartitions || index >= count)
            return false;

        typeEntityName = entityName[..colon];
        return true;
    }

    static bool IsDigits(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty || text.Length > 4)
            return false;

        foreach (var c in text)
        {
            if (c is < '0' or > '9')
                return false;
        }

        return true;
    }

    /// <summary>Checks a partition count, with a message that says what is allowed.</summary>
    public static void Validate(int partitions, string typeName, string parameterName)
    {
        if (partitions is < 1 or > MaxPartitions)
        {
            throw new ArgumentException(
                $"The partition count of {typeName} is {partitions}; it must be between 1 (not partitioned) and {MaxPartitions}. "
                + "Choose a multiple of the number of primaries of the Redis Cluster, e.g. 3, 6 or 12 on three primaries.", parameterName);
        }
    }
}
