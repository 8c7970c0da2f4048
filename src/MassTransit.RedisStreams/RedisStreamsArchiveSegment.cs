namespace MassTransit;

/// <summary>One segment of a stream's archive: consecutive entries, written once (see <see cref="IRedisStreamsArchive" />).</summary>
public sealed class RedisStreamsArchiveSegment
{
    /// <summary>The stream its entries come from, e.g. <c>events:AuctionEnded</c>.</summary>
    public required string StreamKey { get; init; }

    /// <summary>The ID of its first entry.</summary>
    public required string FirstEntryId { get; init; }

    /// <summary>The ID of its last entry.</summary>
    public required string LastEntryId { get; init; }

    /// <summary>How many entries it holds.</summary>
    public long Count { get; init; }

    /// <summary>Its size in the archive, in bytes.</summary>
    public long Bytes { get; init; }

    /// <summary>Where it is: a file path, or an object's <c>s3://bucket/key</c>.</summary>
    public required string Location { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{StreamKey} {FirstEntryId}..{LastEntryId} ({Count} entries, {Bytes} bytes) at {Location}";
}
