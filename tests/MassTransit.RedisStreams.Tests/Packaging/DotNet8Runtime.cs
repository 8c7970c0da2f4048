namespace MassTransit.RedisStreams.Tests.Packaging;

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;


/// <summary>
/// A .NET installation with the .NET 8 runtimes only (Microsoft.NETCore.App and Microsoft.AspNetCore.App 8.0), made from
/// the runtime packs on NuGet, so that a test runs a <c>net8.0</c> build on .NET 8 itself on a machine that has only a
/// newer runtime; a newer build fails to start there ("You must install or update .NET"). Its <c>dotnet</c> is the
/// machine's host, which runs any runtime version.
/// </summary>
static class DotNet8Runtime
{
    const string RuntimePack = "microsoft.netcore.app.runtime.linux-x64";
    const string AspNetCorePack = "microsoft.aspnetcore.app.runtime.linux-x64";

    /// <summary>Makes the installation in <paramref name="workDirectory" />; returns its root (its <c>dotnet</c> is in it).</summary>
    public static async Task<string> Create(string workDirectory, TimeSpan timeout)
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("The .NET 8 installation is made from the linux-x64 runtime packs.");

        // A self-contained net8.0 restore brings the 8.0 runtime packs into the NuGet cache; the SDK picks their version.
        var restore = Path.Combine(workDirectory, "runtime8-restore");
        Directory.CreateDirectory(restore);
        foreach (var file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
            await File.WriteAllTextAsync(Path.Combine(restore, file), "<Project />");
        await File.WriteAllTextAsync(Path.Combine(restore, "Runtime8.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net8.0</TargetFramework>
                <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
                <SelfContained>true</SelfContained>
              </PropertyGroup>
              <ItemGroup>
                <FrameworkReference Include="Microsoft.AspNetCore.App" />
              </ItemGroup>
            </Project>
            """);
        var result = await PackedFeed.RunProgram("dotnet", restore, timeout, null, "restore", "--disable-build-servers");
        if (result.ExitCode != 0)
            throw new InvalidOperationException("Restoring the .NET 8 runtime packs failed:" + Environment.NewLine + result.Output);

        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var root = Path.Combine(workDirectory, "dotnet8");
        LinkFramework(Newest8(cache, RuntimePack), "Microsoft.NETCore.App", root, native: true);
        LinkFramework(Newest8(cache, AspNetCorePack), "Microsoft.AspNetCore.App", root, native: false);

        // The host: the machine's dotnet and hostfxr, copied (not linked: the host finds the runtimes next to its real path).
        var machineRoot = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));
        File.Copy(Path.Combine(machineRoot, "dotnet"), Path.Combine(root, "dotnet"));
        foreach (var file in Directory.GetFiles(Path.Combine(machineRoot, "host"), "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(root, Path.GetRelativePath(machineRoot, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return root;
    }

    /// <summary>The environment that makes a process use only the installation at <paramref name="root" />.</summary>
    public static IReadOnlyDictionary<string, string> Environment8(string root) =>
        new Dictionary<string, string> { ["DOTNET_ROOT"] = root, ["DOTNET_ROLL_FORWARD"] = "LatestPatch" };

    static string Newest8(string cache, string pack)
    {
        var versions = Directory.Exists(Path.Combine(cache, pack))
            ? Directory.GetDirectories(Path.Combine(cache, pack), "8.0.*").Select(x => (Path: x, Version: Version.Parse(Path.GetFileName(x)))).ToList()
            : [];
        if (versions.Count == 0)
            throw new InvalidOperationException($"No 8.0 {pack} in {cache} after the restore.");
        return versions.MaxBy(x => x.Version).Path;
    }

    static void LinkFramework(string pack, string name, string root, bool native)
    {
        var runtimes = Path.Combine(pack, "runtimes", "linux-x64");
        var target = Path.Combine(root, "shared", name, Path.GetFileName(pack));
        Directory.CreateDirectory(target);
        var files = Directory.GetFiles(Path.Combine(runtimes, "lib", "net8.0")).AsEnumerable();
        if (native)
            files = files.Concat(Directory.GetFiles(Path.Combine(runtimes, "native")));
        foreach (var file in files)
            File.CreateSymbolicLink(Path.Combine(target, Path.GetFileName(file)), file);
    }
}
