namespace MassTransit.RedisStreams.Cli;

using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;


/// <summary>The options every command takes, and the parsing of positions and policies.</summary>
static partial class CliOptions
{
    public const string ConnectionVariable = "REDIS_STREAMS_CONNECTION";
    public const string KeyPrefixVariable = "REDIS_STREAMS_KEY_PREFIX";

    public static readonly Option<string> Connection = new("--connection", "-c")
    {
        Description = $"A StackExchange.Redis configuration string, e.g. redis1:6379,password=secret, or a redis:// or rediss:// URI. "
            + $"Default: ${ConnectionVariable}, else localhost:6379. The password may come from $REDIS_PASSWORD instead.",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } value ? value : "localhost:6379"
    };

    public static readonly Option<string?> KeyPrefix = new("--prefix", "-p")
    {
        Description = $"The bus's key prefix (RedisStreams:KeyPrefix). Default: ${KeyPrefixVariable}, else none.",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(KeyPrefixVariable) is { Length: > 0 } value ? value : null
    };

    public const string ArchiveVariable = "REDIS_STREAMS_ARCHIVE";

    public static readonly Option<string?> Archive = new("--archive")
    {
        Description = $"Where retention archives the event streams: a directory, or s3://bucket/prefix (AWS credentials and region as the AWS SDK "
            + $"finds them; AWS_ENDPOINT_URL_S3 for an S3-compatible store). history, replay and info then read the archive with the streams. "
            + $"Default: ${ArchiveVariable}, else none.",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(ArchiveVariable) is { Length: > 0 } value ? value : null
    };

    public static readonly Option<OutputFormat> Output = new("--output", "-o")
    {
        Description = "text (tables, for people) or json (one JSON document on stdout, camelCase; with --watch one a line per refresh). Default: text.",
        Recursive = true,
        DefaultValueFactory = _ => OutputFormat.Text
    };

    /// <summary>--yes: for a command that changes data, do it without asking.</summary>
    public static Option<bool> Yes() => new("--yes", "-y")
    {
        Description = "Do it without asking. Needed when standard input is not a terminal."
    };

    /// <summary>--dry-run: for a command that changes data, say what it would do and change nothing.</summary>
    public static Option<bool> DryRun() => new("--dry-run")
    {
        Description = "Print what would be done, and change nothing."
    };

    /// <summary>--watch [seconds]: redraw every few seconds until Ctrl+C.</summary>
    public static Option<TimeSpan?> Watch() => new("--watch", "-w")
    {
        Description = "Redraw every <seconds> (default 2) until Ctrl+C; with --output json, one JSON document a line per refresh.",
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = result =>
        {
            if (result.Tokens.Count == 0)
                return TimeSpan.FromSeconds(2);

            if (double.TryParse(result.Tokens[0].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 0.1 and <= 86400)
                return TimeSpan.FromSeconds(seconds);

            result.AddError($"--watch takes a number of seconds between 0.1 and 86400, not '{result.Tokens[0].Value}'.");
            return null;
        }
    };

    /// <summary>Rejects a count or limit below 1, naming the option, before the command runs.</summary>
    public static T AtLeastOne<T>(this T option)
        where T : Option
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && long.TryParse(result.Tokens[0].Value, out var value) && value < 1)
                result.AddError($"{option.Name} must be at least 1.");
        });

        return option;
    }

    /// <summary>
    /// A position in a stream: an entry ID (<c>1696320000000-0</c>), a time (<c>2026-11-30T08:00:00Z</c>), or a time ago
    /// (<c>90s</c>, <c>15m</c>, <c>2h</c>, <c>7d</c>).
    /// </summary>
    public static Option<RedisStreamsPosition?> Position(string name, string description) => new(name)
    {
        Description = description + " An entry ID (1696320000000-0), a time (2026-11-30T08:00:00Z), or a time ago (90s, 15m, 2h, 7d).",
        CustomParser = ParsePosition
    };

    static RedisStreamsPosition? ParsePosition(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (TryParseAgo(text, out var ago))
            return RedisStreamsPosition.FromTime(DateTimeOffset.UtcNow - ago);

        if (EntryIdPattern().IsMatch(text) || text is "-" or "+" or "$")
            return RedisStreamsPosition.FromId(text);

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            return RedisStreamsPosition.FromTime(time);

        result.AddError($"'{text}' is not an entry ID (1696320000000-0), a time (2026-11-30T08:00:00Z) or a time ago (2h).");
        return null;
    }

    /// <summary>90s, 15m, 2h, 7d.</summary>
    public static bool TryParseAgo(string text, out TimeSpan duration)
    {
        duration = default;
        var match = AgoPattern().Match(text);
        if (!match.Success)
            return false;

        var amount = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        duration = match.Groups[2].Value switch
        {
            "s" => TimeSpan.FromSeconds(amount),
            "m" => TimeSpan.FromMinutes(amount),
            "h" => TimeSpan.FromHours(amount),
            _ => TimeSpan.FromDays(amount)
        };

        return true;
    }

    [GeneratedRegex(@"^\d+(-\d+)?$")]
    private static partial Regex EntryIdPattern();

    [GeneratedRegex(@"^(\d+)([smhd])$")]
    private static partial Regex AgoPattern();
}


/// <summary>What a command prints on stdout.</summary>
enum OutputFormat
{
    Text,
    Json
}
