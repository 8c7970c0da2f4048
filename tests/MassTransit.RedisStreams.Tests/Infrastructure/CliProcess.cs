namespace MassTransit.RedisStreams.Tests.Infrastructure;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;


/// <summary>Runs the operator's tool (<c>redis-streams</c>) as a process and keeps what it printed and its exit code.</summary>
public static class CliProcess
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static async Task<CliResult> Run(IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        using var process = Start(environment, arguments);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Timeout);

        return new CliResult(process.ExitCode, await output, await error);
    }

    /// <summary>
    /// Starts the tool with its output to be read as it comes (for --watch); standard input is a closed pipe, never a
    /// terminal, as in a script. The caller kills and disposes the process.
    /// </summary>
    public static Process Start(IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "redis-streams.dll"));
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);

        start.Environment.Remove("REDIS_STREAMS_CONNECTION");
        start.Environment.Remove("REDIS_STREAMS_KEY_PREFIX");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;

        var process = Process.Start(start) ?? throw new InvalidOperationException("The tool did not start.");
        process.StandardInput.Close();
        return process;
    }

    /// <summary>Runs the tool against a Redis and a key prefix given as options.</summary>
    public static Task<CliResult> Run(string connection, string prefix, params string[] arguments)
    {
        return Run(null, [..arguments, "--connection", connection, "--prefix", prefix]);
    }
}


public sealed record CliResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
}
