using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Testcontainers.Redis;

namespace MassTransit.RedisStreams.Tests.Infrastructure;

/// <summary>
/// Finds the one Redis server that all tests of a run share. Tests isolate themselves with
/// <see cref="NewKeyPrefix"/> instead of owning a server, so they can run in parallel.
/// </summary>
public static class TestRedis
{
    /// <summary>The environment variable that points the tests at an existing Redis.</summary>
    public const string ConnectionEnvironmentVariable = "REDIS_CONNECTION";

    /// <summary>What to do when no Redis can be found.</summary>
    public const string NoRedisMessage =
        "No Redis server for the tests. Set REDIS_CONNECTION=host:port (a StackExchange.Redis configuration string), "
        + "or install redis-server (Debian/Ubuntu: sudo apt-get install -y redis-server) so the tests can start a private one, "
        + "or run a Docker engine so Testcontainers can start redis:7.";

    const string ContainerImage = "redis:7.0";

    // Long enough to pull the image on a cold engine; an absent engine never gets this far.
    static readonly TimeSpan ContainerStartTimeout = TimeSpan.FromMinutes(3);
    static readonly TimeSpan ContainerStopTimeout = TimeSpan.FromSeconds(10);

    // A failed lookup is cached too, so every test fails fast with the same explanation instead of retrying.
    static readonly Lazy<Task<string>> SharedConnection = new(LocateAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Whether <c>redis-server</c> is on PATH, so a test can start, kill and restart a <see cref="RedisServerProcess"/> of its own.
    /// </summary>
    public static bool CanManageOwnServer => RedisServerProcess.IsAvailable;

    /// <summary>
    /// The StackExchange.Redis configuration string of the shared server: <c>REDIS_CONNECTION</c> if set, else a private
    /// redis-server from PATH, else a Testcontainers redis:7; throws <see cref="InvalidOperationException"/> when none is there.
    /// </summary>
    public static Task<string> GetConnectionStringAsync() => SharedConnection.Value;

    /// <summary>A short key prefix unique to the caller, such as <c>t1a2b3c4d</c>.</summary>
    public static string NewKeyPrefix() => "t" + Guid.NewGuid().ToString("N")[..8];

    static async Task<string> LocateAsync()
    {
        var configured = Environment.GetEnvironmentVariable(ConnectionEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(configured))
            return configured.Trim();

        var failures = new List<string>();

        if (RedisServerProcess.IsAvailable)
        {
            try
            {
                return await Task.Run(StartPrivateServer).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is InvalidOperationException or TimeoutException or IOException or Win32Exception)
            {
                failures.Add("redis-server from PATH did not start: " + exception.Message);
            }
        }

        if (DockerEngineMayBeRunning())
        {
            try
            {
                return await StartContainerAsync().ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                // Testcontainers reports an unusable engine with many exception types; any of them means "no Redis here".
                failures.Add("Testcontainers could not start " + ContainerImage + ": " + exception.Message);
            }
        }

        var message = failures.Count == 0
            ? NoRedisMessage
            : NoRedisMessage + Environment.NewLine + string.Join(Environment.NewLine, failures);
        throw new InvalidOperationException(message);
    }

    static string StartPrivateServer()
    {
        var server = RedisServerProcess.Start(appendOnly: true, appendFsync: "everysec");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Dispose();
        return server.ConnectionString;
    }

    static async Task<string> StartContainerAsync()
    {
        var container = new RedisBuilder(ContainerImage).Build();
        try
        {
            using var timeout = new CancellationTokenSource(ContainerStartTimeout);
            await container.StartAsync(timeout.Token).ConfigureAwait(false);
        }
        catch
        {
            await container.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                container.DisposeAsync().AsTask().Wait(ContainerStopTimeout);
            }
            catch (AggregateException)
            {
                // Testcontainers' reaper removes the container anyway; exiting must not fail over it.
            }
        };

        return container.GetConnectionString();
    }

    // Only a cheap look for an engine's endpoint: asking Testcontainers when there is none costs seconds.
    static bool DockerEngineMayBeRunning()
    {
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("DOCKER_HOST")))
            return true;

        if (OperatingSystem.IsWindows())
            return File.Exists(@"\\.\pipe\docker_engine");

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var runtimeDirectory = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");

        var candidates = new List<string> { "/var/run/docker.sock", "/run/docker.sock" };
        if (!string.IsNullOrEmpty(runtimeDirectory))
            candidates.Add(Path.Combine(runtimeDirectory, "docker.sock"));
        if (!string.IsNullOrEmpty(home))
        {
            candidates.Add(Path.Combine(home, ".docker", "run", "docker.sock"));
            candidates.Add(Path.Combine(home, ".testcontainers.properties"));
        }

        return candidates.Exists(File.Exists);
    }
}
