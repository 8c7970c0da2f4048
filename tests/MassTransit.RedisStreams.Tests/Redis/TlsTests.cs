namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using Infrastructure;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// TLS against a real redis-server with certificates made by openssl for the test: the server verified against a private
/// certificate authority, through the configuration string, a rediss:// URI and ConfigurationOptions; mutual TLS with a
/// client certificate; and plain text refused on the TLS port.
/// </summary>
[Trait("Category", "TLS")]
public sealed class TlsTests :
    IDisposable
{
    readonly string _directory;

    public TlsTests()
    {
        _directory = Path.Combine(Path.GetTempPath(), "mt-redis-tls-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
    }

    string Ca => Path.Combine(_directory, "ca.crt");
    string ClientCertificate => Path.Combine(_directory, "client.crt");
    string ClientKey => Path.Combine(_directory, "client.key");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, true);
        }
        catch (IOException)
        {
        }
    }

    [RedisServerFact]
    public async Task The_server_is_verified_against_a_private_authority_given_by_string_uri_or_options()
    {
        MakeCertificates();
        var tlsPort = RedisServerProcess.FindFreePort();
        using var server = StartTlsServer(tlsPort, authClients: false);

        await BusProbe.AssertRuns($"localhost:{tlsPort},ssl=true", h => h.TlsCaCertificate = Ca);
        await BusProbe.AssertRuns($"rediss://localhost:{tlsPort}", h => h.TlsCaCertificate = Ca);

        var options = ConfigurationOptions.Parse($"localhost:{tlsPort}");
        options.Ssl = true;
        options.TrustIssuer(Ca);
        await BusProbe.AssertRuns(options);

        // Without the authority the server's certificate is not trusted.
        await Assert.ThrowsAnyAsync<RedisConnectionException>(() => Connect($"localhost:{tlsPort},ssl=true"));
    }

    [RedisServerFact]
    public async Task Mutual_tls_presents_the_client_certificate_and_plain_text_is_refused()
    {
        MakeCertificates();
        var tlsPort = RedisServerProcess.FindFreePort();
        using var server = StartTlsServer(tlsPort, authClients: true);

        await BusProbe.AssertRuns($"rediss://localhost:{tlsPort}", h =>
        {
            h.TlsCaCertificate = Ca;
            h.TlsClientCertificate = ClientCertificate;
            h.TlsClientKey = ClientKey;
        });

        // Without a client certificate, and in plain text, the TLS port refuses the connection.
        await Assert.ThrowsAnyAsync<RedisConnectionException>(() => Connect($"localhost:{tlsPort},ssl=true", trustCa: true));
        await Assert.ThrowsAnyAsync<RedisConnectionException>(() => Connect($"localhost:{tlsPort}"));
    }

    async Task Connect(string configuration, bool trustCa = false)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 3000;
        options.ConnectRetry = 1;
        if (trustCa)
            options.TrustIssuer(Ca);

        await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
        await connection.GetDatabase().PingAsync();
    }

    RedisServerProcess StartTlsServer(int tlsPort, bool authClients)
    {
        return RedisServerProcess.Start(false, "everysec",
            $"tls-port {tlsPort}",
            $"tls-cert-file {Path.Combine(_directory, "server.crt")}",
            $"tls-key-file {Path.Combine(_directory, "server.key")}",
            $"tls-ca-cert-file {Ca}",
            $"tls-auth-clients {(authClients ? "yes" : "no")}");
    }

    /// <summary>A certificate authority, a server certificate for localhost and 127.0.0.1, and a client certificate.</summary>
    void MakeCertificates()
    {
        File.WriteAllText(Path.Combine(_directory, "server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        File.WriteAllText(Path.Combine(_directory, "client.ext"), "extendedKeyUsage=clientAuth\n");

        OpenSsl("req -x509 -new -nodes -newkey rsa:2048 -keyout ca.key -out ca.crt -days 1 -subj /CN=Test-CA");
        OpenSsl("req -new -nodes -newkey rsa:2048 -keyout server.key -out server.csr -subj /CN=localhost");
        OpenSsl("x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 1 -extfile server.ext");
        OpenSsl("req -new -nodes -newkey rsa:2048 -keyout client.key -out client.csr -subj /CN=client");
        OpenSsl("x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 1 -extfile client.ext");
    }

    void OpenSsl(string arguments)
    {
        var start = new ProcessStartInfo("openssl", arguments)
        {
            WorkingDirectory = _directory,
            RedirectStandardError = true,
            RedirectStandardOutput = true
        };

        using var process = Process.Start(start) ?? throw new InvalidOperationException("openssl could not be started.");
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"openssl {arguments} failed: {error.Result}");
    }
}
