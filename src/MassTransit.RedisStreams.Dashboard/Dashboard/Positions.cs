namespace MassTransit.RedisStreams.Dashboard;

using System;
using System.Globalization;
using System.Text.RegularExpressions;


/// <summary>
/// A position typed into a form, as the command line takes it: an entry ID (<c>1696320000000-0</c>), a time in UTC
/// (<c>2026-11-30T08:00:00Z</c>, or as a date-time field sends it, <c>2026-11-30T08:00</c>), or a time ago (<c>15m</c>, <c>2h</c>).
/// </summary>
static partial class Positions
{
    /// <summary>Null for an empty field.</summary>
    /// <exception cref="ArgumentException">The text is none of the three.</exception>
    public static RedisStreamsPosition? Parse(string? text, string field)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;

        text = text.Trim();
        var ago = AgoPattern().Match(text);
        if (ago.Success)
        {
            var amount = int.Parse(ago.Groups[1].Value, CultureInfo.InvariantCulture);
            var duration = ago.Groups[2].Value switch
            {
                "s" => TimeSpan.FromSeconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                "h" => TimeSpan.FromHours(amount),
                _ => TimeSpan.FromDays(amount)
            };

            return RedisStreamsPosition.FromTime(DateTimeOffset.UtcNow - duration);
        }

        if (EntryIdPattern().IsMatch(text))
            return RedisStreamsPosition.FromId(text);

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            return RedisStreamsPosition.FromTime(time);

        throw new ArgumentException($"{field}: '{text}' is not an entry ID (1696320000000-0), a UTC time (2026-11-30T08:00:00Z) or a time ago (2h).");
    }

    [GeneratedRegex(@"^\d+(-\d+)?$")]
    private static partial Regex EntryIdPattern();

    [GeneratedRegex(@"^(\d+)([smhd])$")]
    private static partial Regex AgoPattern();
}
