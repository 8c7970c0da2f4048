namespace MassTransit.RedisStreams.Tests.Infrastructure;

using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;


/// <summary>
/// A Linux network namespace joined to this one by a veth pair (<see cref="HostAddress" /> here, <see cref="InnerAddress" />
/// inside): a process started in it (<see cref="Wrap" />) reaches this host only over that link, so taking the link down
/// (<see cref="Cut" />) cuts it off, as a network partition would, while it keeps running. Needs root and iproute2.
/// </summary>
public sealed class NetworkNamespace :
    IDisposable
{
    readonly string _hostInterface;

    NetworkNamespace(string name, string hostInterface, string hostAddress, string innerAddress)
    {
        Name = name;
        _hostInterface = hostInterface;
        HostAddress = hostAddress;
        InnerAddress = innerAddress;
    }

    public string Name { get; }

    /// <summary>This side of the link: a server bound here is reachable from inside the namespace.</summary>
    public string HostAddress { get; }

    /// <summary>The namespace's side of the link.</summary>
    public string InnerAddress { get; }

    static readonly Lazy<string?> Probe = new(() =>
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip") && !File.Exists("/usr/bin/ip"))
            return "Needs iproute2 (ip) on Linux (Debian/Ubuntu: sudo apt-get install -y iproute2).";

        if (Environment.UserName != "root")
            return "Creating a network namespace needs root.";

        // Root is not always enough (a container without CAP_NET_ADMIN): one namespace made and removed says for certain.
        using var network = Create(out var reason);
        return network == null ? "Cannot create a network namespace here: " + reason : null;
    });

    /// <summary>Why no namespace can be made here, or null when one can; found out once, by making one.</summary>
    public static string? Unavailable => Probe.Value;

    /// <summary>Creates a namespace, or returns null with the reason it cannot be made here (not root, no iproute2).</summary>
    public static NetworkNamespace? TryCreate(out string reason)
    {
        if (Unavailable is { } unavailable)
        {
            reason = unavailable;
            return null;
        }

        return Create(out reason);
    }

    static NetworkNamespace? Create(out string reason)
    {

        var id = Guid.NewGuid().ToString("N")[..6];
        var subnet = 16 + Random.Shared.Next(200);
        var octet = Random.Shared.Next(64) * 4;
        var host = string.Create(CultureInfo.InvariantCulture, $"10.{subnet}.{octet}.1");
        var inner = string.Create(CultureInfo.InvariantCulture, $"10.{subnet}.{octet}.2");
        var network = new NetworkNamespace("mtrs" + id, "vh" + id, host, inner);

        var inside = "vn" + id;
        string[][] steps =
        [
            ["netns", "add", network.Name],
            ["link", "add", network._hostInterface, "type", "veth", "peer", "name", inside],
            ["link", "set", inside, "netns", network.Name],
            ["addr", "add", host + "/30", "dev", network._hostInterface],
            ["link", "set", network._hostInterface, "up"],
            ["netns", "exec", network.Name, "ip", "addr", "add", inner + "/30", "dev", inside],
            ["netns", "exec", network.Name, "ip", "link", "set", inside, "up"],
            ["netns", "exec", network.Name, "ip", "link", "set", "lo", "up"]
        ];

        foreach (var step in steps)
        {
            if (Ip(step) is { } failure)
            {
                network.Dispose();
                reason = $"ip {string.Join(' ', step)} failed: {failure}";
                return null;
            }
        }

        reason = "";
        return network;
    }

    /// <summary>Takes the link down: nothing passes between the namespace and this host until <see cref="Restore" />.</summary>
    public void Cut() => Require(Ip(["link", "set", _hostInterface, "down"]));

    /// <summary>Brings the link up again.</summary>
    public void Restore() => Require(Ip(["link", "set", _hostInterface, "up"]));

    /// <summary>Makes <paramref name="start" /> run its program inside the namespace.</summary>
    public ProcessStartInfo Wrap(ProcessStartInfo start)
    {
        var wrapped = new ProcessStartInfo("ip")
        {
            UseShellExecute = start.UseShellExecute,
            RedirectStandardOutput = start.RedirectStandardOutput,
            RedirectStandardError = start.RedirectStandardError
        };

        // ip netns exec runs the program in place of itself, so the process is the program's.
        wrapped.ArgumentList.Add("netns");
        wrapped.ArgumentList.Add("exec");
        wrapped.ArgumentList.Add(Name);
        wrapped.ArgumentList.Add(start.FileName);
        foreach (var argument in start.ArgumentList)
            wrapped.ArgumentList.Add(argument);

        return wrapped;
    }

    public void Dispose()
    {
        Ip(["netns", "del", Name]);
        Ip(["link", "del", _hostInterface]);
    }

    static void Require(string? failure)
    {
        if (failure != null)
            throw new InvalidOperationException(failure);
    }

    /// <summary>Runs ip with <paramref name="arguments" />; null when it succeeded, else what it said.</summary>
    static string? Ip(string[] arguments)
    {
        var start = new ProcessStartInfo("ip")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);

        using var process = Process.Start(start) ?? throw new InvalidOperationException("ip did not start");
        var error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();

        return process.ExitCode == 0 ? null : error.Trim();
    }
}

