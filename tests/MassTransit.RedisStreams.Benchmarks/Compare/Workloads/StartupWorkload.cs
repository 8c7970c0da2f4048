namespace MassTransit.RedisStreams.Benchmarks.Compare.Workloads;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Results;


/// <summary>
/// How long a bus of three endpoints takes to start: in a fresh process each time (see <see cref="StartupProbe" />), the
/// first start — with the code still to compile, as an application or a test run meets it —, the way from building the bus
/// to the end of that start, from the bus's creation to the end of that start, and a second start of the same bus. The median of several processes.
/// </summary>
public sealed class StartupWorkload :
    Workload
{
    public override string Id => "startup";
    public override string Title => "Start-up of a bus of three endpoints";

    public override string Settings(ComparisonOptions options) =>
        $"{Processes(options)} fresh processes, each building a bus of three consumers with ConfigureEndpoints and timing StartAsync, "
        + "then one publish until its consumer has it, then a stop and StartAsync again; medians.";

    public override IReadOnlyList<Metric> Metrics(ComparisonOptions options) =>
    [
        new("first", "first start in a fresh process", "ms", false),
        new("ready", "bus built and started, in a fresh process", "ms", false),
        new("created", "bus created to started (what a test harness's inactivity timer sees)", "ms", false),
        new("message", "then the first message, publish to consumer", "ms", false),
        new("again", "start again in the same process", "ms", false)
    ];

    public override string? NotApplicable(string transport) =>
        transport == TransportNames.RawRedis ? "the raw loop has no bus to start" : null;

    static int Processes(ComparisonOptions options) => options.Quick ? 2 : 7;

    public override async Task<Outcome> Run(string transport, BenchEnvironment environment, RunScope scope)
    {
        var arguments = transport switch
        {
            TransportNames.InMemory => ["--in-memory"],
            _ => environment.BusTransports[transport].WorkerArguments().ToList()
        };

        var first = new List<double>();
        var again = new List<double>();
        var message = new List<double>();
        var ready = new List<double>();
        var created = new List<double>();
        for (var i = 0; i < Processes(environment.Options); i++)
        {
            var (firstMs, againMs, messageMs, readyMs, createdMs) = await Probe(arguments);
            first.Add(firstMs);
            again.Add(againMs);
            message.Add(messageMs);
            ready.Add(readyMs);
            created.Add(createdMs);
        }

        first.Sort();
        again.Sort();
        message.Sort();
        ready.Sort();
        created.Sort();
        return new Outcome
        {
            Values =
            {
                ["first"] = Load.Percentile(first, 0.5),
                ["ready"] = Load.Percentile(ready, 0.5),
                ["created"] = Load.Percentile(created, 0.5),
                ["message"] = Load.Percentile(message, 0.5),
                ["again"] = Load.Percentile(again, 0.5)
            }
        };
    }

    static async Task<(double First, double Again, double Message, double Ready, double Created)> Probe(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true
        };
        start.ArgumentList.Add(Path.ChangeExtension(typeof(StartupProbe).Assembly.Location, ".dll"));
        start.ArgumentList.Add(StartupProbe.Mode);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));

        var line = (await output).Split('\n').FirstOrDefault(x => x.StartsWith("startup ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"The start-up probe failed (exit code {process.ExitCode}): {await errors}");
        var parts = line.Trim().Split(' ');
        return (double.Parse(parts[1], CultureInfo.InvariantCulture), double.Parse(parts[2], CultureInfo.InvariantCulture),
            double.Parse(parts[3], CultureInfo.InvariantCulture), double.Parse(parts[4], CultureInfo.InvariantCulture),
            double.Parse(parts[5], CultureInfo.InvariantCulture));
    }
}
