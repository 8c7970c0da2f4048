namespace MassTransit.RedisStreams.Redis;

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using StackExchange.Redis;


/// <summary>
/// Reads a connection string as users write it: a StackExchange.Redis configuration string (<c>host:port,password=...</c>),
/// or a <c>redis://</c> or <c>rediss://</c> (TLS) URI, <c>redis[s]://[user[:password]@]host[:port][/database][?option=value&amp;...]</c>,
/// whose query options are StackExchange.Redis's (<c>?serviceName=mymaster&amp;abortConnect=false</c>). A user and password given
/// on their own (from another configuration source, such as an environment variable) take precedence over those in the
/// string.
/// </summary>
static partial class RedisConfiguration
{
    const int DefaultPort = 6379;
    const int DefaultTlsPort = 6380;

    /// <exception cref="ArgumentException">The string cannot be read; the message shows it with its password masked.</exception>
    public static ConfigurationOptions Parse(string configuration, string? user = null, string? password = null)
    {
        var options = IsUri(configuration) ? ParseUri(configuration) : ParseStackExchange(configuration);

        if (!string.IsNullOrEmpty(user))
            options.User = user;
        if (!string.IsNullOrEmpty(password))
            options.Password = password;

        return options;
    }

    /// <summary>
    /// Turns TLS on with the given files: the server's certificate is verified against <paramref name="caCertificate" />
    /// (a PEM file) instead of the machine's trust store, and <paramref name="clientCertificate" /> (a PEM file with
    /// <paramref name="clientKey" />, or a PKCS#12 file with its key inside) is presented for mutual TLS.
    /// </summary>
    public static void ApplyTls(ConfigurationOptions options, string? caCertificate, string? clientCertificate, string? clientKey)
    {
        if (!string.IsNullOrEmpty(caCertificate))
        {
            options.Ssl = true;
            options.TrustIssuer(caCertificate);
        }

        if (!string.IsNullOrEmpty(clientCertificate))
        {
            options.Ssl = true;
            var certificate = LoadClientCertificate(clientCertificate, clientKey);
            options.CertificateSelection += (_, _, _, _, _) => certificate;
        }
    }

    static X509Certificate2 LoadClientCertificate(string certificate, string? key)
    {
        if (string.IsNullOrEmpty(key))
            return LoadPkcs12(File.ReadAllBytes(certificate));

        // A PEM key stays ephemeral on some platforms, which TLS cannot use; a PKCS#12 round trip gives it a usable one.
        using var pem = X509Certificate2.CreateFromPemFile(certificate, key);
        return LoadPkcs12(pem.Export(X509ContentType.Pkcs12));
    }

    static X509Certificate2 LoadPkcs12(byte[] data)
    {
#if NET9_0_OR_GREATER
        return X509CertificateLoader.LoadPkcs12(data, null);
#else
        return new X509Certificate2(data);
#endif
    }

    /// <summary>The connection string with its password replaced by <c>***</c>, for messages and logs.</summary>
    public static string Redact(string? configuration)
    {
        if (string.IsNullOrEmpty(configuration))
            return configuration ?? "";

        if (IsUri(configuration))
        {
            // redis://user:secret@host keeps the user; redis://secret@host is a password alone.
            var start = configuration.IndexOf("://", StringComparison.Ordinal) + 3;
            var end = configuration.IndexOfAny(['/', '?'], start);
            var at = configuration.LastIndexOf('@', end < 0 ? configuration.Length - 1 : end - 1);
            if (at < start)
                return configuration;

            var colon = configuration.IndexOf(':', start, at - start);
            return colon < 0 ? configuration[..start] + "***" + configuration[at..] : configuration[..(colon + 1)] + "***" + configuration[at..];
        }

        return PasswordOption().Replace(configuration, "$1***");
    }

    static bool IsUri(string configuration)
    {
        return configuration.StartsWith("redis://", StringComparison.OrdinalIgnoreCase)
            || configuration.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase);
    }

    static ConfigurationOptions ParseStackExchange(string configuration)
    {
        try
        {
            return ConfigurationOptions.Parse(configuration);
        }
        catch (ArgumentException exception)
        {
            throw new ArgumentException($"'{Redact(configuration)}' cannot be parsed: {Redact(exception.Message)}", exception);
        }
    }

    static ConfigurationOptions ParseUri(string configuration)
    {
        if (!Uri.TryCreate(configuration, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"'{Redact(configuration)}' is not a valid redis:// URI; write it as "
                + "redis://[user[:password]@]host[:port][/database][?option=value], or use a StackExchange.Redis string such as "
                + "'host1:6379,host2:6379' for several servers.");
        }

        var tls = uri.Scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase);
        var port = uri.IsDefaultPort || uri.Port < 0 ? tls ? DefaultTlsPort : DefaultPort : uri.Port;

        var parts = new List<string> { $"{uri.Host}:{port.ToString(CultureInfo.InvariantCulture)}" };
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=');
            var name = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "true" : Uri.UnescapeDataString(pair[(equals + 1)..]);
            parts.Add($"{name}={value}");
        }

        var options = ParseStackExchange(string.Join(",", parts));
        if (tls)
            options.Ssl = true;

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var colon = uri.UserInfo.IndexOf(':');
            var user = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            var password = colon < 0 ? null : Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);

            // redis://secret@host is a password alone, as redis-cli reads it; redis://user:secret@host a user and a password.
            if (password == null)
                options.Password = user;
            else
            {
                if (user.Length > 0)
                    options.User = user;
                options.Password = password;
            }
        }

        var database = uri.AbsolutePath.Trim('/');
        if (database.Length > 0)
        {
            if (!int.TryParse(database, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                throw new ArgumentException($"'{Redact(configuration)}' names database '{database}'; the path of a redis:// URI is a database number.");

            options.DefaultDatabase = number;
        }

        return options;
    }

    [GeneratedRegex(@"((?:^|,)\s*password\s*=)[^,]*", RegexOptions.IgnoreCase)]
    private static partial Regex PasswordOption();
}
