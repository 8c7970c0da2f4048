namespace MassTransit.RedisStreams.Tests.Unit;

using System;
using System.Linq;
using MassTransit.RedisStreams.Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>Connection strings as users write them: StackExchange.Redis strings and redis:// / rediss:// URIs.</summary>
public class RedisConfigurationTests
{
    [Fact]
    public void A_redis_uri_gives_host_port_user_password_and_database()
    {
        var options = RedisConfiguration.Parse("redis://shop:p%40ss%3Aword@cache.internal:6390/3");

        Assert.Equal("cache.internal:6390", Name(options.EndPoints.Single()));
        Assert.Equal("shop", options.User);
        Assert.Equal("p@ss:word", options.Password);
        Assert.Equal(3, options.DefaultDatabase);
        Assert.False(options.Ssl);
    }

    [Fact]
    public void A_rediss_uri_turns_tls_on_and_its_query_carries_stackexchange_options()
    {
        var options = RedisConfiguration.Parse("rediss://:secret@cache.example.com?abortConnect=false&connectTimeout=2500&sslHost=cache.example.com");

        Assert.True(options.Ssl);
        Assert.Equal("cache.example.com:6380", Name(options.EndPoints.Single()));
        Assert.Null(options.User);
        Assert.Equal("secret", options.Password);
        Assert.False(options.AbortOnConnectFail);
        Assert.Equal(2500, options.ConnectTimeout);
        Assert.Equal("cache.example.com", options.SslHost);
    }

    [Fact]
    public void A_uri_without_a_port_uses_6379_and_userinfo_without_a_colon_is_a_password_as_redis_cli_reads_it()
    {
        var options = RedisConfiguration.Parse("redis://secret@localhost");

        Assert.Equal("localhost:6379", Name(options.EndPoints.Single()));
        Assert.Equal("secret", options.Password);
        Assert.Null(options.User);
    }

    [Fact]
    public void A_user_and_password_given_apart_take_precedence_over_those_in_the_string()
    {
        var options = RedisConfiguration.Parse("localhost:6379,user=old,password=old", user: "tenant_a", password: "from-the-environment");

        Assert.Equal("tenant_a", options.User);
        Assert.Equal("from-the-environment", options.Password);
    }

    [Fact]
    public void A_stackexchange_string_reads_as_before()
    {
        var options = RedisConfiguration.Parse("redis1:6379,redis2:6379,password=secret,ssl=true,serviceName=mymaster");

        Assert.Equal(new[] { "redis1:6379", "redis2:6379" }, options.EndPoints.Select(Name).ToArray());
        Assert.Equal("secret", options.Password);
        Assert.True(options.Ssl);
        Assert.Equal("mymaster", options.ServiceName);
    }

    [Theory]
    [InlineData("redis://shop:s3cret@host:6379/x", "redis://shop:***@host:6379/x")]
    [InlineData("rediss://s3cret@host", "rediss://***@host")]
    [InlineData("host:6379,password=s3cret,ssl=true", "host:6379,password=***,ssl=true")]
    [InlineData("host:6379", "host:6379")]
    public void Passwords_are_masked_wherever_a_string_is_shown(string configuration, string shown)
    {
        Assert.Equal(shown, RedisConfiguration.Redact(configuration));
    }

    [Fact]
    public void A_bad_uri_says_how_to_write_one_without_showing_the_password()
    {
        var exception = Assert.Throws<ArgumentException>(() => RedisConfiguration.Parse("redis://shop:s3cret@host:6379/not-a-number"));

        Assert.Contains("database number", exception.Message);
        Assert.DoesNotContain("s3cret", exception.Message);

        var problems = new RedisStreamsTransportOptions { Configuration = "redis://shop:s3cret@host:6379/not-a-number" }.Validate().ToArray();
        Assert.Single(problems);
        Assert.DoesNotContain("s3cret", problems[0]);
        Assert.StartsWith("RedisStreams:Configuration", problems[0]);
    }

    [Fact]
    public void Replica_and_tls_settings_that_cannot_work_are_named()
    {
        var problems = new RedisStreamsTransportOptions
        {
            WaitForReplicas = 1,
            WaitForReplicasTimeout = TimeSpan.FromMinutes(5),
            TlsCaCertificate = "/no/such/ca.crt",
            TlsClientKey = "/no/such/client.key"
        }.Validate().ToArray();

        Assert.Contains(problems, x => x.StartsWith("RedisStreams:WaitForReplicasTimeout must be between 1 millisecond and the SendTimeout"));
        Assert.Contains(problems, x => x == "RedisStreams:TlsCaCertificate '/no/such/ca.crt' does not exist.");
        Assert.Contains(problems, x => x.StartsWith("RedisStreams:TlsClientKey is set without RedisStreams:TlsClientCertificate"));
        Assert.Contains(new RedisStreamsTransportOptions { WaitForReplicas = -1 }.Validate(), x => x.StartsWith("RedisStreams:WaitForReplicas must not be negative"));
    }

    static string Name(System.Net.EndPoint endPoint) => endPoint is System.Net.DnsEndPoint dns ? $"{dns.Host}:{dns.Port}" : endPoint.ToString()!;
}
