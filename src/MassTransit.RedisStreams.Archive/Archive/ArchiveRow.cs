namespace MassTransit.RedisStreams.Archive;

using System.Collections.Generic;
using System.Text.Json.Serialization;
using Parquet.Serialization.Attributes;


/// <summary>
/// One archived entry, one row of a segment's Parquet file: <c>id</c> (the entry ID, as Redis shows it), <c>ms</c> and <c>seq</c>
/// (its two parts, for tools to filter and sort by), and <c>fields</c>, a map of the entry's fields as Redis holds them, in
/// their order, each value the bytes Redis holds.
/// </summary>
sealed class ArchiveRow
{
    /// <summary>The entry ID, e.g. <c>1696320000000-0</c>.</summary>
    [JsonPropertyName("id")]
    [ParquetRequired]
    public string Id { get; set; } = "";

    /// <summary>The milliseconds part of the ID: when the entry was appended, in Unix ms.</summary>
    [JsonPropertyName("ms")]
    public long Milliseconds { get; set; }

    /// <summary>The sequence part of the ID.</summary>
    [JsonPropertyName("seq")]
    public long Sequence { get; set; }

    /// <summary>The entry's fields: name to value.</summary>
    [JsonPropertyName("fields")]
    public Dictionary<string, byte[]>? Fields { get; set; }
}
