namespace AuctionHouse;

using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// Prints what the transport left in Redis, read with plain StackExchange.Redis: what an operator sees with
/// <c>XLEN</c>, <c>XRANGE</c> and <c>XINFO GROUPS</c> in redis-cli.
/// </summary>
public static class StreamReport
{
    const int MaxValueLength = 240;

    public static async Task Write(IDatabase database, RedisKey stream, string runId, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(output);

        output.WriteLine();
        output.WriteLine($"What the transport left in Redis (this run: {runId})");

        output.WriteLine($"> XLEN {stream}");
        output.WriteLine($"  {await database.StreamLengthAsync(stream)}");

        output.WriteLine($"> XRANGE {stream} - + COUNT 3");
        var entries = await database.StreamRangeAsync(stream, "-", "+", 3);
        if (entries.Length == 0)
            output.WriteLine("  (empty)");

        foreach (var entry in entries)
        {
            output.WriteLine($"  {entry.Id}");
            foreach (var field in entry.Values)
                output.WriteLine($"    {field.Name} = {Describe(field.Name!, field.Value)}");
        }

        output.WriteLine($"> XINFO GROUPS {stream}");
        var groups = await database.StreamGroupInfoAsync(stream);
        if (groups.Length == 0)
            output.WriteLine("  (no groups)");

        foreach (var group in groups)
        {
            output.WriteLine($"  {group.Name,-14} consumers={group.ConsumerCount} pending={group.PendingMessageCount} " +
                $"last-delivered-id={group.LastDeliveredId} entries-read={Format(group.EntriesRead)} lag={Format(group.Lag)}");
        }
    }

    /// <summary>
    /// Field values are text. The body is MassTransit's JSON envelope; of it only the message itself is shown, the rest
    /// (addresses, host information) is summed up by its size.
    /// </summary>
    static string Describe(string name, RedisValue value)
    {
        var text = (string?)value ?? "";

        if (name == "body")
        {
            try
            {
                using var document = JsonDocument.Parse(text);
                if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("message", out var message))
                    return $"{{\"message\": {Shorten(JsonSerializer.Serialize(message))}, ...}} ({Encoding.UTF8.GetByteCount(text)} bytes of JSON envelope)";
            }
            catch (JsonException)
            {
            }
        }

        return Shorten(text);
    }

    static string Format(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "?";

    static string Shorten(string text)
    {
        return text.Length <= MaxValueLength ? text : string.Concat(text.AsSpan(0, MaxValueLength), $"... ({text.Length} chars)");
    }
}
