namespace MassTransit.RedisStreams.Tests.Documentation;

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Packaging;
using Xunit;


/// <summary>
/// The documentation a newcomer reads (issue 16): the site that <c>docs/build.sh</c> builds with DocFX, failing on any
/// warning, and the links of the pages DocFX does not build (the README, the changelog, the examples' READMEs) and of
/// links that point into the repository on GitHub, which DocFX cannot follow.
/// </summary>
public sealed partial class DocumentationTests
{
    const string RepositoryUrl = "https://github.com/masstransit-redisstreams/MassTransit.RedisStreams/";
    static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

    readonly string _root = PackedFeed.FindRepositoryRoot();

    [Fact]
    public async Task The_site_builds_with_the_api_reference_and_no_broken_link()
    {
        var build = await PackedFeed.RunProgram(Path.Combine(_root, "docs", "build.sh"), _root, BuildTimeout, null);

        Assert.True(build.ExitCode == 0, "docs/build.sh failed (a warning fails it, e.g. a broken link):" + Environment.NewLine
            + string.Join(Environment.NewLine, build.Output.Split('\n').Where(x => x.Contains("warning", StringComparison.OrdinalIgnoreCase)
                || x.Contains("error", StringComparison.OrdinalIgnoreCase)).Take(40)));

        var site = Path.Combine(_root, "docs", "_site");
        foreach (var page in new[] { "index.html", "getting-started.html", "configuration.html", "api/index.html" })
            Assert.True(File.Exists(Path.Combine(site, page)), $"docs/_site/{page} was not built");

        // The API reference comes from the XML docs: the options type and its documented members are there.
        var options = await File.ReadAllTextAsync(Path.Combine(site, "api", "MassTransit.RedisStreamsTransportOptions.html"));
        Assert.Contains("ClaimTimeout", options, StringComparison.Ordinal);
        Assert.Contains("How long an entry read by an instance may go unacknowledged", options, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(site, "api", "MassTransit.Testing.RedisStreamsTestHarness.html")), "the test harness has no API page");
    }

    [Fact]
    public void Every_link_of_the_readme_changelog_examples_and_docs_resolves()
    {
        var files = new List<string> { "README.md", "CHANGELOG.md", Path.Combine("src", "PACKAGE-README.md") };
        files.AddRange(Directory.GetFiles(Path.Combine(_root, "docs"), "*.md").Select(x => Path.GetRelativePath(_root, x)));
        files.AddRange(Directory.GetFiles(Path.Combine(_root, "examples"), "README.md", SearchOption.AllDirectories)
            .Where(x => !x.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !x.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(x => Path.GetRelativePath(_root, x)));

        var broken = new List<string>();
        var checkedLinks = 0;
        foreach (var file in files)
        {
            var text = File.ReadAllText(Path.Combine(_root, file));
            foreach (var (line, target) in Links(text))
            {
                checkedLinks++;
                if (Check(file, target) is { } problem)
                    broken.Add($"{file}:{line}: {target}: {problem}");
            }
        }

        Assert.True(checkedLinks > 100, $"only {checkedLinks} links found");
        Assert.True(broken.Count == 0, "Broken links:" + Environment.NewLine + string.Join(Environment.NewLine, broken));
    }

    [Fact]
    public void The_readme_is_a_short_read_that_links_the_reference()
    {
        var readme = File.ReadAllText(Path.Combine(_root, "README.md"));
        var words = Regex.Count(readme, @"\S+");

        // About 200 words a minute, and code is skimmed: five minutes of prose and the quick start.
        Assert.True(words < 1_400, $"README.md has {words} words");
        foreach (var page in Directory.GetFiles(Path.Combine(_root, "docs"), "*.md").Select(Path.GetFileName))
        {
            if (page != "index.md")
                Assert.True(readme.Contains("docs/" + page, StringComparison.Ordinal)
                    || File.ReadAllText(Path.Combine(_root, "docs", "index.md")).Contains($"({page})", StringComparison.Ordinal),
                    $"docs/{page} is linked from neither the README nor docs/index.md");
        }
    }

    /// <summary>Why <paramref name="target" />, linked from <paramref name="file" />, does not resolve; null when it does.</summary>
    string? Check(string file, string target)
    {
        if (target.StartsWith(RepositoryUrl, StringComparison.Ordinal))
        {
            // blob/main/<path> or tree/main/<path>: the path must exist in the repository.
            var match = Regex.Match(target[RepositoryUrl.Length..], "^(?:blob|tree)/main/([^#?]+)");
            if (!match.Success)
                return null;
            var path = Path.Combine(_root, Uri.UnescapeDataString(match.Groups[1].Value));
            return File.Exists(path) || Directory.Exists(path) ? null : "no such file in the repository";
        }

        if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
            return null;
        if (file.EndsWith("PACKAGE-README.md", StringComparison.Ordinal))
            return "a relative link in the NuGet readme, which is read outside the repository";

        var hash = target.IndexOf('#');
        var relative = hash < 0 ? target : target[..hash];
        var anchor = hash < 0 ? null : target[(hash + 1)..];
        var resolved = relative.Length == 0
            ? Path.Combine(_root, file)
            : Path.GetFullPath(Path.Combine(_root, Path.GetDirectoryName(file)!, Uri.UnescapeDataString(relative)));

        if (!resolved.StartsWith(_root, StringComparison.Ordinal))
            return "points outside the repository";
        if (!File.Exists(resolved) && !Directory.Exists(resolved))
            return "no such file";
        if (anchor is { Length: > 0 } && resolved.EndsWith(".md", StringComparison.Ordinal)
            && !Anchors(File.ReadAllText(resolved)).Contains(anchor))
            return $"no heading with the anchor #{anchor}";
        return null;
    }

    /// <summary>The Markdown links of <paramref name="text" /> outside code, with their line numbers.</summary>
    static IEnumerable<(int Line, string Target)> Links(string text)
    {
        var inFence = false;
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            if (inFence)
                continue;
            var line = InlineCode().Replace(lines[i], "");
            foreach (Match match in LinkTarget().Matches(line))
                yield return (i + 1, match.Groups[1].Value);
        }
    }

    /// <summary>The anchors GitHub (and DocFX) give the headings of a Markdown page.</summary>
    static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var inFence = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
                inFence = !inFence;
            if (inFence || !line.StartsWith('#'))
                continue;

            var heading = line.TrimStart('#').Trim();
            var slug = new StringBuilder();
            foreach (var c in heading.ToLowerInvariant())
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_')
                    slug.Append(c);
                else if (c == ' ')
                    slug.Append('-');
            }

            var anchor = slug.ToString();
            for (var n = 1; !anchors.Add(anchor); n++)
                anchor = $"{slug}-{n}";
        }

        return anchors;
    }

    [GeneratedRegex(@"\]\(([^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex LinkTarget();

    [GeneratedRegex("`[^`]*`")]
    private static partial Regex InlineCode();
}
