namespace MassTransit.RedisStreams.Cli;

using System;
using System.CommandLine;
using System.Threading;
using System.Threading.Tasks;
using Operations;
using Redis;
using StackExchange.Redis;


/// <summary>
/// One command's connection to Redis, and the one place where failures become one line and an exit code: a command never
/// ends in a stack trace.
/// </summary>
sealed class CliSession :
    IAsyncDisposable
{
    CliSession(ConnectionMultiplexer multiplexer, string? keyPrefix, IRedisStreamsArchive? archive)
    {
        Archive = archive;
        Multiplexer = multiplexer;
        KeyPrefix = keyPrefix;
        Redis = new RedisGateway(new RedisConnection(multiplexer, observe: false), new StreamKeys(keyPrefix));
        History = new RedisStreamsEventHistory(multiplexer, keyPrefix);
        if (archive != null)
            History.WithArchive(archive);
        Operations = new EntryOperations(Redis);
        Groups = new ConsumerGroups(Redis);
    }

    public ConnectionMultiplexer Multiplexer { get; }

    /// <summary>The archive given with --archive, or null.</summary>
    public IRedisStreamsArchive? Archive { get; }
    public string? KeyPrefix { get; }
    public RedisGateway Redis { get; }
    public RedisStreamsEventHistory History { get; }
    public EntryOperations Operations { get; }
    public ConsumerGroups Groups { get; }

    /// <summary>
    /// The stream an operator named, in any of the spellings <see cref="StreamResolver" /> takes; a failure with exit code 4
    /// when it does not exist.
    /// </summary>
    public async Task<OperatedStream> ResolveExisting(string spelling, RedisStreamsStreamKind? bareKind = null)
    {
        var stream = await Operations.Resolver.Resolve(spelling, bareKind).ConfigureAwait(false);
        if (!await Redis.Admin.Exists(stream.Key).ConfigureAwait(false))
            throw new CliException(ExitCodes.NotFound, $"there is no stream {stream.Key}.");

        return stream;
    }

    public async ValueTask DisposeAsync()
    {
        await Multiplexer.CloseAsync().ConfigureAwait(false);
        await Multiplexer.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Runs a command's work with a session, turning every failure into one line on stderr and an exit code.</summary>
    public static async Task<int> Run(ParseResult parse, Func<CliSession, CancellationToken, Task<int>> work, CancellationToken cancellationToken)
    {
        var connection = parse.GetValue(CliOptions.Connection) ?? "localhost:6379";
        var keyPrefix = parse.GetValue(CliOptions.KeyPrefix);

        ConfigurationOptions options;
        try
        {
            options = RedisConfiguration.Parse(connection, password: Environment.GetEnvironmentVariable("REDIS_PASSWORD"));
            StreamKeys.NormalizePrefix(keyPrefix);
        }
        catch (ArgumentException exception)
        {
            return Fail(ExitCodes.Usage, exception.Message);
        }

        IRedisStreamsArchive? archive;
        try
        {
            archive = OpenArchive(parse.GetValue(CliOptions.Archive));
        }
        catch (ArgumentException exception)
        {
            return Fail(ExitCodes.Usage, exception.Message);
        }

        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 5000;
        options.ConnectRetry = 1;

        ConnectionMultiplexer multiplexer;
        try
        {
            multiplexer = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
        }
        catch (RedisConnectionException exception)
        {
            return Fail(ExitCodes.Unreachable, $"cannot connect to Redis at {Describe(options)}: {FirstLine(exception.Message)}");
        }

        await using var session = new CliSession(multiplexer, keyPrefix, archive);
        try
        {
            return await work(session, cancellationToken).ConfigureAwait(false);
        }
        catch (CliException exception)
        {
            return Fail(exception.ExitCode, exception.Message);
        }
        catch (ArgumentException exception)
        {
            return Fail(ExitCodes.NotFound, FirstLine(exception.Message));
        }
        catch (OperationCanceledException)
        {
            return Fail(ExitCodes.Failed, "cancelled");
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            return Fail(ExitCodes.Failed, "Redis failed: " + FirstLine(exception.Message));
        }
    }

    /// <summary>The archive --archive names: a directory, or <c>s3://bucket/prefix</c>.</summary>
    static RedisStreamsParquetArchive? OpenArchive(string? location)
    {
        if (string.IsNullOrWhiteSpace(location))
            return null;

        if (!location.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
            return RedisStreamsParquetArchive.Directory(location);

        var path = location["s3://".Length..];
        var slash = path.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash < 0 ? path : path[..slash];
        if (bucket.Length == 0)
            throw new ArgumentException($"--archive {location} names no bucket: s3://bucket/prefix.");

        var config = new Amazon.S3.AmazonS3Config();
        if ((Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3") ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL")) is { Length: > 0 } endpoint)
        {
            config.ServiceURL = endpoint;
            config.ForcePathStyle = true;
        }

#pragma warning disable CA2000 // the client lives as long as the command
        var client = new Amazon.S3.AmazonS3Client(config);
#pragma warning restore CA2000
        return RedisStreamsParquetArchive.S3(client, bucket, slash < 0 ? null : path[(slash + 1)..]);
    }

    static int Fail(int exitCode, string message)
    {
        Console.Error.WriteLine("redis-streams: " + message);
        return exitCode;
    }

    static string Describe(ConfigurationOptions options) => string.Join(",", options.EndPoints);

    static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        var line = end < 0 ? message : message[..end];

        // The parameter name ArgumentException appends belongs to the code, not to the person reading.
        var parameter = line.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return parameter < 0 ? line : line[..parameter];
    }
}


/// <summary>A failure a command reports as one line with its own exit code.</summary>
sealed class CliException :
    Exception
{
    public CliException(int exitCode, string message)
        : base(message)
    {
        ExitCode = exitCode;
    }

    public int ExitCode { get; }
}
