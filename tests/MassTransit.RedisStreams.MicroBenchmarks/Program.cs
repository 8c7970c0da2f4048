namespace MassTransit.RedisStreams.MicroBenchmarks;

using BenchmarkDotNet.Running;


/// <summary><c>dotnet run -c Release --project tests/MassTransit.RedisStreams.MicroBenchmarks -- --filter '*'</c>.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
