namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Threading.Tasks;
using Contract;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


/// <summary>
/// Addresses that MassTransit and code written for RabbitMQ build, and which streams they name.
/// </summary>
public class AddressTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_message_sent_to_a_queue_bound_on_send_is_received_by_the_endpoint_connected_later()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await redis.StartHarness(_ => { });
        var harness = provider.GetRequiredService<ITestHarness>();

        // As MassTransit's own spec for binding a queue on send builds the address: the host address, "/", the queue name,
        // "?bind=true" — here redis://host:port/prefix//unbound-service?bind=true.
        var hostAddress = new Uri(harness.Bus.Address, ".");
        var serviceAddress = new UriBuilder(hostAddress + "/" + "unbound-service") { Query = "bind=true" }.Uri;
        Assert.Contains("//unbound-service", serviceAddress.ToString());

        var burgerId = Guid.NewGuid();
        await (await harness.Bus.GetSendEndpoint(serviceAddress)).Send(new Grill(burgerId));

        var db = await redis.Database();
        Assert.Equal(1, await db.StreamLengthAsync(redis.Key("queue:unbound-service")));

        var received = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handle = harness.Bus.ConnectReceiveEndpoint("unbound-service", e => e.Handler<Grill>(ctx =>
        {
            received.TrySetResult(ctx.Message.BurgerId);
            return Task.CompletedTask;
        }));
        await handle.Ready;
        try
        {
            Assert.Equal(burgerId, await received.Task.WaitAsync(Timeout));
        }
        finally
        {
            await handle.StopAsync();
        }
    }

    [Fact]
    public async Task An_exchange_address_names_the_event_stream_only_for_messages_of_that_type_and_the_queue_for_any_other()
    {
        var redis = await RedisTestContext.Create();
        await using var provider = await redis.StartHarness(_ => { });
        var harness = provider.GetRequiredService<ITestHarness>();
        var db = await redis.Database();

        var exchange = await harness.Bus.GetSendEndpoint(new Uri("exchange:burger-ordered"));
        await exchange.Send(new BurgerOrdered(Guid.NewGuid()));
        await exchange.Send(new Grill(Guid.NewGuid()));

        Assert.Equal(1, await db.StreamLengthAsync(redis.Key("events:burger-ordered")));
        Assert.Equal(1, await db.StreamLengthAsync(redis.Key("queue:burger-ordered")));
    }
}
