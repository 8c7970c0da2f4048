namespace MassTransit.RedisStreams.Tests.Infrastructure;

using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using Amazon.Runtime;
using Amazon.S3;
using Xunit;


/// <summary>
/// s3rver, a fake S3 server for Node (npm <c>s3rver@3.7.1</c>), started on a free port with an empty bucket, for the tests of the
/// S3 archive. It is installed with npm into <see cref="ToolDirectory" /> once (./test.sh does it first); the tests that need it are
/// skipped, saying why, only when node or npm is missing or the install fails.
/// </summary>
public sealed class S3rverProcess :
    IDisposable
{
    public const string Version = "3.7.1";
    public const string Bucket = "archive";

    static readonly Lazy<string?> Unavailable = new(Install);

    readonly Process _process;
    readonly string _data;

    S3rverProcess(Process process, string data, int port)
    {
        _process = process;
        _data = data;
        Port = port;
    }

    /// <summary>Where s3rver is installed: <c>S3RVER_DIR</c>, or a folder under the temporary directory.</summary>
    public static string ToolDirectory => Environment.GetEnvironmentVariable("S3RVER_DIR")
        ?? Path.Combine(Path.GetTempPath(), "mt-redis-streams-tools", "s3rver-" + Version);

    static string Script => Path.Combine(ToolDirectory, "node_modules", "s3rver", "bin", "s3rver.js");

    /// <summary>Why s3rver cannot run here, or null when it can (installing it first if needed).</summary>
    public static string? WhyUnavailable => Unavailable.Value;

    public int Port { get; }

    /// <summary>A client for the server (s3rver's credentials, path-style, checksums only where S3 requires them).</summary>
    public AmazonS3Client CreateClient() => new(new BasicAWSCredentials("S3RVER", "S3RVER"), new AmazonS3Config
    {
        ServiceURL = "http://127.0.0.1:" + Port,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED
    });

    public static async Task<S3rverProcess> Start()
    {
        Assert.Null(WhyUnavailable);

        var data = Path.Combine(Path.GetTempPath(), "mt-s3rver-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);

        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var start = new ProcessStartInfo("node") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { Script, "-d", data, "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent", "--configure-bucket", Bucket })
            start.ArgumentList.Add(argument);

        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new S3rverProcess(process, data, port);

        var ready = await Eventually.True(async () =>
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30));
        if (!ready)
        {
            server.Dispose();
            throw new InvalidOperationException($"s3rver did not listen on {port} within 30 s");
        }

        return server;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();

        if (Directory.Exists(_data))
            Directory.Delete(_data, recursive: true);
    }

    static string? Install()
    {
        if (File.Exists(Script))
            return null;

        try
        {
            Directory.CreateDirectory(ToolDirectory);
            var start = new ProcessStartInfo("npm") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { "install", "--prefix", ToolDirectory, "--no-audit", "--no-fund", "s3rver@" + Version })
                start.ArgumentList.Add(argument);

            using var npm = Process.Start(start);
            if (npm == null)
                return "Needs node and npm to run s3rver, a fake S3 server (Debian/Ubuntu: sudo apt-get install -y nodejs npm).";

            var output = npm.StandardError.ReadToEndAsync();
            if (!npm.WaitForExit(TimeSpan.FromMinutes(3)))
            {
                npm.Kill(entireProcessTree: true);
                return $"npm install s3rver@{Version} took longer than 3 minutes; install it into {ToolDirectory} (or set S3RVER_DIR).";
            }

            return npm.ExitCode == 0 && File.Exists(Script)
                ? null
                : $"npm install s3rver@{Version} into {ToolDirectory} failed (no npm registry?): {output.Result.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "Needs node and npm to run s3rver, a fake S3 server (Debian/Ubuntu: sudo apt-get install -y nodejs npm).";
        }
    }
}


/// <summary>A fact that needs <see cref="S3rverProcess" />: skipped, saying why, where s3rver cannot be installed.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class S3rverFactAttribute :
    FactAttribute
{
    public S3rverFactAttribute()
    {
        if (S3rverProcess.WhyUnavailable is { } reason)
            Skip = reason;
    }
}
