namespace MassTransit.RedisStreams.Benchmarks.Compare;

using System;
using System.IO;
using System.Threading.Tasks;
using Results;


/// <summary><c>compare [--quick] [--only workload,...] [--out DIR]</c>: runs the suite and prints the table.</summary>
public static class CompareCommand
{
    public static async Task<int> Run(string[] args)
    {
        ComparisonOptions options;
        try
        {
            options = ComparisonOptions.Parse(args);
        }
        catch (ArgumentException exception)
        {
            Console.Error.WriteLine(exception.Message);
            return 2;
        }

        using var instrumentation = BenchInstrumentation.Start(options.Instrumentation);
        var results = await CompareRunner.Run(options);
        Console.WriteLine();
        Console.WriteLine(MarkdownReport.Write(results));
        Console.WriteLine($"Written to {Path.GetFullPath(options.OutputDirectory)}/results.md and results.json");
        return 0;
    }
}
