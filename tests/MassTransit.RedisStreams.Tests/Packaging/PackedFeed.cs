namespace MassTransit.RedisStreams.Tests.Packaging;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;


/// <summary>
/// The four packages, packed once for the tests of a class with a version of their own into a local feed in a temporary
/// directory outside the repository. Removes the directory, and those versions from the NuGet cache, when done.
/// </summary>
public sealed class PackedFeed : IDisposable
{
    public static readonly string[] Projects =
    [
        "src/MassTransit.RedisStreams.Cli/MassTransit.RedisStreams.Cli.csproj",
        "src/MassTransit.RedisStreams/MassTransit.RedisStreams.csproj",
        "src/MassTransit.RedisStreams.Archive/MassTransit.RedisStreams.Archive.csproj",
        "src/MassTransit.RedisStreams.Dashboard/MassTransit.RedisStreams.Dashboard.csproj",
        "src/MassTransit.RedisStreams.OpenTelemetry/MassTransit.RedisStreams.OpenTelemetry.csproj"
    ];

    public static readonly string[] PackageIds =
        ["redis-streams", "MassTransit.RedisStreams", "MassTransit.RedisStreams.Archive", "MassTransit.RedisStreams.Dashboard", "MassTransit.RedisStreams.OpenTelemetry"];

    public const string RepositoryUrl = "https://github.com/masstransit-redisstreams/MassTransit.RedisStreams";

    static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(4);

    readonly Lazy<Task<string>> _dotNet8Root;

    public PackedFeed()
    {
        RepositoryRoot = FindRepositoryRoot();
        Version = "0.0.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
        WorkDirectory = Directory.CreateTempSubdirectory("redis-streams-pack-").FullName;
        Feed = Path.Combine(WorkDirectory, "feed");
        _dotNet8Root = new Lazy<Task<string>>(() => DotNet8Runtime.Create(WorkDirectory, PackTimeout));
        Directory.CreateDirectory(Feed);

        // Its own bin and obj (--artifacts-path), so that packing leaves the repository's build outputs alone.
        var artifacts = Path.Combine(WorkDirectory, "artifacts");
        foreach (var project in Projects)
        {
            var result = Run(RepositoryRoot, PackTimeout, "pack", Path.Combine(RepositoryRoot, project), "-c", "Release", "-o", Feed,
                "--artifacts-path", artifacts, "-p:Version=" + Version, "-p:ContinuousIntegrationBuild=true", "--disable-build-servers",
                "-nodeReuse:false").GetAwaiter().GetResult();
            if (result.ExitCode != 0)
                throw new InvalidOperationException($"dotnet pack {project} failed:{Environment.NewLine}{result.Output}");
        }
    }

    public string RepositoryRoot { get; }
    public string Version { get; }
    public string WorkDirectory { get; }
    public string Feed { get; }

    /// <summary>A .NET installation with only the .NET 8 runtimes, made once (see <see cref="DotNet8Runtime" />).</summary>
    public Task<string> DotNet8Root => _dotNet8Root.Value;

    public string PackagePath(string id, string extension = "nupkg") => Path.Combine(Feed, $"{id}.{Version}.{extension}");

    /// <summary>A new directory outside the repository with a nuget.config of the feed and nuget.org, and nothing to inherit.</summary>
    public string NewAppDirectory(string name)
    {
        var directory = Path.Combine(WorkDirectory, name);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local-feed" value="{Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
              </packageSources>
            </configuration>
            """);
        // Outside the repository nothing would be found anyway; these make sure of it.
        File.WriteAllText(Path.Combine(directory, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(directory, "Directory.Build.targets"), "<Project />");
        File.WriteAllText(Path.Combine(directory, "Directory.Packages.props"), "<Project />");
        return directory;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
        }

        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in PackageIds)
        {
            var cached = Path.Combine(cache, id.ToLowerInvariant(), Version);
            if (Directory.Exists(cached))
                Directory.Delete(cached, recursive: true);
        }
    }

    /// <summary>Runs <paramref name="fileName"/>, killing it after <paramref name="timeout"/>; output and error together.</summary>
    public static async Task<ProcessResult> RunProgram(string fileName, string workingDirectory, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);

        // The test host runs under `dotnet test`; its MSBuild settings must not leak into the builds started here.
        foreach (var name in start.Environment.Keys.Where(x => x.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(name);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;

        using var process = Process.Start(start) ?? throw new InvalidOperationException(fileName + " did not start.");
        process.StandardInput.Close();
        var output = new StringBuilder();
        var outputTask = process.StandardOutput.ReadToEndAsync();
        var errorTask = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within {timeout}:"
                + Environment.NewLine + await outputTask + await errorTask);
        }

        output.Append(await outputTask).Append(await errorTask);
        return new ProcessResult(process.ExitCode, output.ToString());
    }

    public static Task<ProcessResult> Run(string workingDirectory, TimeSpan timeout, params string[] arguments) =>
        RunProgram("dotnet", workingDirectory, timeout, null, arguments);

    internal static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory != null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MassTransit.RedisStreams.sln")))
                return directory.FullName;
        }

        throw new InvalidOperationException("The repository (MassTransit.RedisStreams.sln) is not above " + AppContext.BaseDirectory);
    }
}


public sealed record ProcessResult(int ExitCode, string Output);
