namespace MassTransit.RedisStreams.Tests.Smoke;

using System;
using System.Threading.Tasks;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

public record PingMessage(string Text);

public class PingConsumer : IConsumer<PingMessage>
{
    public Task Consume(ConsumeContext<PingMessage> context) => Task.CompletedTask;
}

public class SmokeTests
{
    [Fact]
    public async Task Publish_and_consume()
    {
        var connection = await TestRedis.GetConnectionStringAsync();
        var prefix = TestRedis.NewKeyPrefix();

        await using var provider = new ServiceCollection()
            .AddMassTransitTestHarness(x =>
            {
                x.AddConsumer<PingConsumer>();
                x.UsingRedisStreams((context, cfg) =>
                {
                    cfg.Host(connection, h => h.KeyPrefix = prefix);
                    cfg.ConfigureEndpoints(context);
                });
            })
            .BuildServiceProvider(true);

        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();

        await harness.Bus.Publish(new PingMessage("hello"));

        Assert.True(await harness.Consumed.Any<PingMessage>());
        Assert.True(await harness.GetConsumerHarness<PingConsumer>().Consumed.Any<PingMessage>());
    }
}
