namespace MassTransit.RedisStreams.Tests.Migration;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Benchmarks.Compare.Brokers;
using Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Redis;
using Xunit;
using Xunit.Abstractions;


/// <summary>
/// The cut-over of docs/migrating-from-rabbitmq.md, with a real RabbitMQ and a real Redis: one application runs both
/// transports (MassTransit's MultiBus) with the same consumer on each; producers move from RabbitMQ to Redis while an old
/// instance still sends through RabbitMQ; RabbitMQ is drained and its bus removed. Every message sent on either bus during
/// the cut-over is handled.
/// </summary>
public class CutOverTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    readonly ITestOutputHelper _output;

    public CutOverTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public interface IRedisBus :
        IBus
    {
    }

    public record PlaceOrder(int Number);

    /// <summary>Which bus handled each order: rabbitmq or redis, by the scheme of the endpoint's address.</summary>
    public sealed class Handled
    {
        public ConcurrentDictionary<int, string> Orders { get; } = new();
    }

    public class PlaceOrderConsumer(Handled handled) :
        IConsumer<PlaceOrder>
    {
        public Task Consume(ConsumeContext<PlaceOrder> context)
        {
            handled.Orders.TryAdd(context.Message.Number, context.ReceiveContext.InputAddress.Scheme);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Messages_sent_on_the_old_bus_during_the_cut_over_are_all_handled_and_RabbitMQ_drains()
    {
        var (broker, reason) = await RabbitBroker.Find(TextWriter.Null);
        Assert.True(broker != null, $"RabbitMQ is needed for the cut-over test: {reason}");
        await using var _ = broker;

        var redis = await RedisTestContext.Create();
        var queue = "cutover-" + Guid.NewGuid().ToString("N")[..8];
        var handled = new Handled();

        var services = new ServiceCollection();
        services.AddSingleton(handled);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddMassTransit(x =>
        {
            x.AddConsumer<PlaceOrderConsumer>().Endpoint(e => e.Name = queue);
            x.UsingRabbitMq((context, cfg) =>
            {
                cfg.Host(broker.Address, h =>
                {
                    h.Username("guest");
                    h.Password("guest");
                });
                cfg.ConfigureEndpoints(context);
            });
        });
        services.AddMassTransit<IRedisBus>(x =>
        {
            x.AddConsumer<PlaceOrderConsumer>().Endpoint(e => e.Name = queue);
            x.UsingRedisStreams((context, cfg) =>
            {
                cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
                cfg.ConfigureEndpoints(context);
            });
        });

        await using var provider = services.BuildServiceProvider(true);
        var depot = provider.GetRequiredService<IBusDepot>();
        await depot.Start(CancellationToken.None);
        try
        {
            var rabbit = await provider.GetRequiredService<IBus>().GetSendEndpoint(new Uri("queue:" + queue));
            var redisBus = await provider.GetRequiredService<IRedisBus>().GetSendEndpoint(new Uri("queue:" + queue));

            // Before: every producer on RabbitMQ.
            await Task.WhenAll(Enumerable.Range(0, 300).Select(i => rabbit.Send(new PlaceOrder(i))));

            // During: the new version sends through Redis while an instance of the old one still sends through RabbitMQ.
            var moved = Task.WhenAll(Enumerable.Range(300, 300).Select(i => redisBus.Send(new PlaceOrder(i))));
            var old = Task.WhenAll(Enumerable.Range(600, 300).Select(i => rabbit.Send(new PlaceOrder(i))));
            await Task.WhenAll(moved, old);

            // After: Redis only.
            await Task.WhenAll(Enumerable.Range(900, 100).Select(i => redisBus.Send(new PlaceOrder(i))));

            Assert.True(await Eventually.True(() => handled.Orders.Count == 1000, Timeout),
                $"every order handled once, on the bus it was sent through; {handled.Orders.Count} of 1,000");

            var byBus = handled.Orders.GroupBy(x => x.Value).ToDictionary(x => x.Key, x => x.Count());
            _output.WriteLine(string.Join(", ", byBus.Select(x => $"{x.Key}: {x.Value}")));
            Assert.Equal(600, byBus.GetValueOrDefault("rabbitmq"));
            Assert.Equal(400, byBus.GetValueOrDefault("redis"));

            // Drained: nothing left in RabbitMQ's queue; its bus can go.
            Assert.Equal(0u, await broker.MessageCount(queue));
        }
        finally
        {
            await depot.Stop(CancellationToken.None);
            await broker.Delete([queue, queue + "_error", queue + "_skipped"], [queue, queue + "_error", queue + "_skipped"]);
        }
    }
}
