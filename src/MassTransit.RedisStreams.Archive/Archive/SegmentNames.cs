namespace MassTransit.RedisStreams.Archive;

using System;
using System.Globalization;


/// <summary>
/// Names a segment by its stream, first and last entry ID and count: <c>&lt;stream&gt;/&lt;first&gt;_&lt;last&gt;_&lt;count&gt;.parquet</c>,
/// the stream key escaped as in a URI (<c>events%3AAuctionEnded</c>), so that a listing tells every segment's range without opening it.
/// </summary>
static class SegmentNames
{
    public const string Extension = ".parquet";

    /// <summary>The folder (or object key prefix) of a stream's segments.</summary>
    public static string Folder(string streamKey) => Uri.EscapeDataString(streamKey);

    public static string Name(string first, string last, long count) =>
        first + "_" + last + "_" + count.ToString(CultureInfo.InvariantCulture) + Extension;

    /// <summary>Reads a segment's name; false for anything else (a temporary file, another program's file).</summary>
    public static bool TryParse(string name, out string first, out string last, out long count)
    {
        first = last = "";
        count = 0;
        if (!name.EndsWith(Extension, StringComparison.Ordinal) || name.StartsWith('.'))
            return false;

        var parts = name[..^Extension.Length].Split('_');
        if (parts.Length != 3 || !IsId(parts[0]) || !IsId(parts[1]) || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out count))
            return false;

        first = parts[0];
        last = parts[1];
        return true;
    }

    static bool IsId(string text)
    {
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        return dash > 0 && ulong.TryParse(text.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out _)
            && ulong.TryParse(text.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out _);
    }
}
