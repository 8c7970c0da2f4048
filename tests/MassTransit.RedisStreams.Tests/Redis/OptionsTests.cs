namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


/// <summary>
/// <c>x.UsingRedisStreams()</c> takes <see cref="RedisStreamsTransportOptions" /> from configuration, and every bad value is
/// reported with a message of its own when the bus is created.
/// </summary>
public class OptionsTests
{
    [Fact]
    public async Task Options_bound_from_configuration_run_the_bus()
    {
        var connection = await TestRedis.GetConnectionStringAsync();
        var prefix = TestRedis.NewKeyPrefix();
        var logs = new DeliveryLogs();

        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["RedisStreams:Configuration"] = connection,
                ["RedisStreams:KeyPrefix"] = prefix,
                ["RedisStreams:IdlePollInterval"] = "00:00:01"
            })
            .Build();

        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton(logs);
        services.AddOptions<RedisStreamsTransportOptions>().BindConfiguration("RedisStreams");
        services.AddMassTransitTestHarness(x =>
        {
            x.AddConsumer<NotificationConsumer>();
            x.UsingRedisStreams();
        });

        await using var provider = services.BuildServiceProvider(true);
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();

        Assert.StartsWith($"redis://", harness.Bus.Address.ToString(), StringComparison.Ordinal);
        Assert.Contains($"/{prefix}/", harness.Bus.Address.AbsolutePath, StringComparison.Ordinal);

        await harness.Bus.Publish(new AuctionEnded(Guid.NewGuid(), "Rug", 80m));
        Assert.True(await logs.Get(nameof(NotificationConsumer)).WaitForDistinct(1, TimeSpan.FromSeconds(10)));

        var redis = await RedisTestContext.Create(connection);
        var db = await redis.Database();
        Assert.Equal(1, await db.StreamLengthAsync(prefix + ":events:AuctionEnded"));
    }

    [Fact]
    public void Every_bad_value_gets_a_message_of_its_own()
    {
        var options = new RedisStreamsTransportOptions
        {
            Configuration = "localhost:6379,ssl=maybe",
            KeyPrefix = "my {tenant}",
            ConsumerName = "",
            IdlePollInterval = TimeSpan.Zero,
            TemporaryStreamExpiry = TimeSpan.FromSeconds(1)
        };

        var problems = new List<string>(options.Validate());

        Assert.Equal(5, problems.Count);
        Assert.Contains(problems, x => x.StartsWith("RedisStreams:Configuration", StringComparison.Ordinal));
        Assert.Contains(problems, x => x.StartsWith("RedisStreams:KeyPrefix", StringComparison.Ordinal));
        Assert.Contains(problems, x => x.StartsWith("RedisStreams:ConsumerName", StringComparison.Ordinal));
        Assert.Contains(problems, x => x.StartsWith("RedisStreams:IdlePollInterval", StringComparison.Ordinal) && x.Contains("00:00:00"));
        Assert.Contains(problems, x => x.StartsWith("RedisStreams:TemporaryStreamExpiry", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bad_options_stop_the_bus_from_being_created_with_every_problem_named()
    {
        var services = new ServiceCollection();
        services.AddOptions<RedisStreamsTransportOptions>().Configure(o =>
        {
            o.Configuration = "";
            o.IdlePollInterval = TimeSpan.FromHours(1);
        });
        services.AddMassTransitTestHarness(x => x.UsingRedisStreams());

        await using var provider = services.BuildServiceProvider(true);

        var exception = await Assert.ThrowsAsync<ConfigurationException>(() => provider.GetRequiredService<ITestHarness>().Start());

        Assert.Contains("RedisStreams:Configuration is empty", exception.Message, StringComparison.Ordinal);
        Assert.Contains("RedisStreams:IdlePollInterval must be between", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_options_are_valid()
    {
        Assert.Empty(new RedisStreamsTransportOptions().Validate());
    }
}
