namespace MassTransit.RedisStreams.Tests.Packaging;

using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection.Metadata;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using System.Xml.Linq;
using MassTransit.RedisStreams.Tests.Infrastructure;
using Xunit;


/// <summary>
/// The packages as a user gets them (issue 16): packed, checked for what makes them trustworthy and debuggable, installed
/// into new projects outside the repository and run against a real Redis. See docs/packages.md.
/// </summary>
public sealed class PackageTests : IClassFixture<PackedFeed>
{
    static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");
    static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(3);
    static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(1);

    readonly PackedFeed _feed;

    public PackageTests(PackedFeed feed)
    {
        _feed = feed;
    }

    [Fact]
    public void Every_package_names_its_repository_commit_licence_icon_and_readme_and_links_its_sources()
    {
        foreach (var id in PackedFeed.PackageIds)
        {
            using var package = ZipFile.OpenRead(_feed.PackagePath(id));
            var nuspec = XDocument.Load(package.Entries.Single(x => x.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
            var metadata = nuspec.Root!.Elements().Single(x => x.Name.LocalName == "metadata");
            string? Value(string name) => metadata.Elements().SingleOrDefault(x => x.Name.LocalName == name)?.Value;

            Assert.Equal(_feed.Version, Value("version"));
            var repository = metadata.Elements().Single(x => x.Name.LocalName == "repository");
            Assert.Equal(PackedFeed.RepositoryUrl, (string?)repository.Attribute("url"));
            Assert.Matches("^[0-9a-f]{40}$", (string?)repository.Attribute("commit") ?? "");
            Assert.Equal("Apache-2.0", Value("license"));
            Assert.Equal("icon.png", Value("icon"));
            Assert.Equal("README.md", Value("readme"));
            Assert.Equal(PackedFeed.RepositoryUrl, Value("projectUrl"));
            Assert.NotNull(package.GetEntry("icon.png"));

            using (var reader = new StreamReader(package.GetEntry("README.md")!.Open()))
            {
                var relative = RelativeLinks(reader.ReadToEnd());
                Assert.True(relative.Count == 0, $"{id}'s README has relative links: {string.Join(", ", relative)}");
            }

            using var symbols = ZipFile.OpenRead(_feed.PackagePath(id, "snupkg"));
            var pdbs = symbols.Entries.Where(x => x.FullName.EndsWith(".pdb", StringComparison.Ordinal)).ToList();
            // One per target (net8.0, net10.0); the tool carries those of the projects it bundles as well, all built here.
            Assert.True(pdbs.Count >= 2, $"{id}: {pdbs.Count} PDBs");
            foreach (var pdb in pdbs)
            {
                var sourceLink = SourceLinkJson(pdb);
                Assert.True(sourceLink.Contains("https://raw.githubusercontent.com/masstransit-redisstreams/MassTransit.RedisStreams/",
                    StringComparison.Ordinal), $"{id} {pdb.FullName}: SourceLink {sourceLink}");
            }
        }
    }

    [Fact]
    public async Task The_readme_quick_start_runs_from_the_package_in_a_new_console_app()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(_feed.RepositoryRoot, "README.md"));
        var program = QuickStart(readme);
        using (var package = ZipFile.OpenRead(_feed.PackagePath("MassTransit.RedisStreams")))
        using (var reader = new StreamReader(package.GetEntry("README.md")!.Open()))
            Assert.Contains(program, (await reader.ReadToEndAsync()).ReplaceLineEndings("\n"), StringComparison.Ordinal);

        var app = _feed.NewAppDirectory("quickstart");
        await Succeeds(app, BuildTimeout, "new", "console", "--name", "QuickStart", "--output", app, "--no-restore");
        await Succeeds(app, BuildTimeout, "add", "package", "MassTransit.RedisStreams", "--version", _feed.Version);
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), program);
        await Succeeds(app, BuildTimeout, "build", "-c", "Release", "--disable-build-servers", "-nodeReuse:false");

        var redis = await TestRedis.GetConnectionStringAsync();
        var run = await Succeeds(app, RunTimeout, "run", "-c", "Release", "--no-build", "--", redis);
        Assert.Contains("Consumed: lot LOT-1 sold for", run, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_net8_app_that_pins_the_8_0_extensions_restores_builds_and_runs()
    {
        var app = _feed.NewAppDirectory("net8");
        await File.WriteAllTextAsync(Path.Combine(app, "Net8App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net8.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Microsoft.Extensions.Logging.Abstractions" Version="8.0.2" />
                <PackageReference Include="Microsoft.Extensions.DependencyInjection" Version="8.0.1" />
                <PackageReference Include="MassTransit.RedisStreams" Version="{_feed.Version}" />
              </ItemGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"),
            QuickStart(await File.ReadAllTextAsync(Path.Combine(_feed.RepositoryRoot, "README.md"))));

        var build = await Succeeds(app, BuildTimeout, "build", "-c", "Release", "--disable-build-servers", "-nodeReuse:false");
        Assert.DoesNotContain("NU1605", build, StringComparison.Ordinal);
        Assert.DoesNotContain("NU1608", build, StringComparison.Ordinal);

        var assets = await File.ReadAllTextAsync(Path.Combine(app, "obj", "project.assets.json"));
        Assert.Contains("\"Microsoft.Extensions.Logging.Abstractions/8.0.2\"", assets, StringComparison.Ordinal);

        // On .NET 8 itself: an installation with the 8.0 runtimes only, where nothing can roll forward to a newer one.
        var dotnet8 = await _feed.DotNet8Root;
        var runtimes = await PackedFeed.RunProgram(Path.Combine(dotnet8, "dotnet"), app, RunTimeout, DotNet8Runtime.Environment8(dotnet8),
            "--list-runtimes");
        Assert.DoesNotMatch(@"Microsoft\.NETCore\.App (9|1\d)\.", runtimes.Output);
        Assert.Matches(@"Microsoft\.NETCore\.App 8\.0\.", runtimes.Output);

        var redis = await TestRedis.GetConnectionStringAsync();
        var run = await PackedFeed.RunProgram(Path.Combine(dotnet8, "dotnet"), app, RunTimeout, DotNet8Runtime.Environment8(dotnet8),
            Path.Combine(app, "bin", "Release", "net8.0", "Net8App.dll"), redis);
        Assert.True(run.ExitCode == 0, $"The net8.0 app on .NET 8 exited with {run.ExitCode}:{Environment.NewLine}{run.Output}");
        Assert.Contains("Consumed: lot LOT-1 sold for", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_tool_installs_from_the_feed_and_lists_the_streams()
    {
        var app = _feed.NewAppDirectory("tool");
        var tools = Path.Combine(app, "tools");
        await Succeeds(app, BuildTimeout, "tool", "install", "--tool-path", tools, "--add-source", _feed.Feed, "redis-streams",
            "--version", _feed.Version);

        var redis = await TestRedis.GetConnectionStringAsync();
        var result = await PackedFeed.RunProgram(Path.Combine(tools, "redis-streams"), app, RunTimeout, null,
            "streams", "--connection", redis);
        Assert.True(result.ExitCode == 0, result.Output);

        // Where only .NET 8 is installed, the tool's net8.0 build is what runs: it does, on .NET 8 itself.
        var dotnet8 = await _feed.DotNet8Root;
        var net8 = Directory.GetFiles(Path.Combine(tools, ".store"), "redis-streams.dll", SearchOption.AllDirectories)
            .Single(x => x.Contains($"{Path.DirectorySeparatorChar}net8.0{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        var onNet8 = await PackedFeed.RunProgram(Path.Combine(dotnet8, "dotnet"), app, RunTimeout, DotNet8Runtime.Environment8(dotnet8),
            net8, "streams", "--connection", redis);
        Assert.True(onNet8.ExitCode == 0, $"The tool's net8.0 build on .NET 8 exited with {onNet8.ExitCode}:{Environment.NewLine}{onNet8.Output}");
        Assert.Contains("streams", onNet8.Output, StringComparison.Ordinal);

        // And its net10.0 build does not start there: the test runs on .NET 8 only, not on whatever the machine has.
        var net10 = net8.Replace($"{Path.DirectorySeparatorChar}net8.0{Path.DirectorySeparatorChar}",
            $"{Path.DirectorySeparatorChar}net10.0{Path.DirectorySeparatorChar}", StringComparison.Ordinal);
        var newer = await PackedFeed.RunProgram(Path.Combine(dotnet8, "dotnet"), app, RunTimeout, DotNet8Runtime.Environment8(dotnet8),
            net10, "streams", "--connection", redis);
        Assert.NotEqual(0, newer.ExitCode);
    }

    /// <summary>The README's whole quick-start program: the C# block that starts with <c>using Auctions;</c>.</summary>
    static string QuickStart(string readme)
    {
        readme = readme.ReplaceLineEndings("\n");
        var start = readme.IndexOf("```csharp\nusing Auctions;\nusing MassTransit;\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no quick-start program (a csharp block starting with `using Auctions;`).");
        start += "```csharp\n".Length;
        var end = readme.IndexOf("\n```", start, StringComparison.Ordinal);
        return readme[start..(end + 1)];
    }

    static List<string> RelativeLinks(string markdown)
    {
        var targets = Regex.Matches(markdown, @"\]\(([^)\s]+)[^)]*\)").Select(x => x.Groups[1].Value)
            .Concat(Regex.Matches(markdown, @"(?:href|src)=""([^""]+)""").Select(x => x.Groups[1].Value));
        return targets.Where(x => !x.StartsWith("https://", StringComparison.Ordinal) && !x.StartsWith("http://", StringComparison.Ordinal))
            .ToList();
    }

    static string SourceLinkJson(ZipArchiveEntry pdb)
    {
        using var memory = new MemoryStream();
        using (var stream = pdb.Open())
            stream.CopyTo(memory);
        memory.Position = 0;

        using var provider = MetadataReaderProvider.FromPortablePdbStream(memory);
        var reader = provider.GetMetadataReader();
        foreach (var handle in reader.CustomDebugInformation)
        {
            var information = reader.GetCustomDebugInformation(handle);
            if (reader.GetGuid(information.Kind) == SourceLinkKind)
                return Encoding.UTF8.GetString(reader.GetBlobBytes(information.Value));
        }

        return "(none)";
    }

    static Task<string> Succeeds(string directory, TimeSpan timeout, params string[] arguments) =>
        Succeeds(directory, timeout, null, arguments);

    static async Task<string> Succeeds(string directory, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment,
        params string[] arguments)
    {
        var result = await PackedFeed.RunProgram("dotnet", directory, timeout, environment, arguments);
        Assert.True(result.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} exited with {result.ExitCode}:{Environment.NewLine}{result.Output}");
        return result.Output;
    }
}
