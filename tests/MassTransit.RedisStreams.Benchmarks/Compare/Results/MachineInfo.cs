namespace MassTransit.RedisStreams.Benchmarks.Compare.Results;

using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;


/// <summary>Where the numbers were measured.</summary>
public sealed class MachineInfo
{
    public int Cores { get; init; } = Environment.ProcessorCount;
    public string Cpu { get; init; } = ReadCpu();
    public string Os { get; init; } = ReadOs();
    public string Dotnet { get; init; } = RuntimeInformation.FrameworkDescription;
    public string MassTransit { get; init; } = typeof(IBus).Assembly.GetName().Version?.ToString() ?? "";
    public string? RedisServer { get; set; }
    public string? RabbitMq { get; set; }
    public DateTimeOffset Date { get; init; } = DateTimeOffset.UtcNow;

    static string ReadOs()
    {
        try
        {
            var pretty = File.ReadLines("/etc/os-release").FirstOrDefault(x => x.StartsWith("PRETTY_NAME=", StringComparison.Ordinal));
            if (pretty != null)
                return pretty["PRETTY_NAME=".Length..].Trim('"') + ", kernel " + Environment.OSVersion.Version;
        }
        catch (IOException)
        {
        }

        return RuntimeInformation.OSDescription;
    }

    static string ReadCpu()
    {
        try
        {
            var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(x => x.StartsWith("model name", StringComparison.Ordinal));
            if (model != null)
                return model[(model.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
        }

        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
