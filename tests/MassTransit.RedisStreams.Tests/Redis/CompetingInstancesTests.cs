namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Linq;
using System.Threading.Tasks;
using Infrastructure;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


/// <summary>
/// Every endpoint gets every event; the instances of one endpoint compete, so each event is handled once per endpoint.
/// </summary>
public class CompetingInstancesTests
{
    const int EventCount = 200;
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Two_endpoints_each_get_every_event_and_two_instances_of_one_endpoint_share_them()
    {
        var redis = await RedisTestContext.Create();
        var first = new DeliveryLogs();
        var second = new DeliveryLogs();

        static void Register(IBusRegistrationConfigurator x)
        {
            x.AddConsumer<SlowNotificationConsumer>().Endpoint(e => e.Name = "notification");
            x.AddConsumer<ReportingConsumer>().Endpoint(e => e.Name = "reporting");
        }

        await using var instance1 = await redis.StartHarness(Register, services: s => s.AddSingleton(first));
        await using var instance2 = await redis.StartHarness(Register, services: s => s.AddSingleton(second));

        var bus = instance1.GetRequiredService<ITestHarness>().Bus;
        var ids = Enumerable.Range(0, EventCount).Select(_ => Guid.NewGuid()).ToArray();
        await Task.WhenAll(ids.Select(id => bus.Publish(new AuctionEnded(id, "Lot", 1m))));

        var notified1 = first.Get(nameof(SlowNotificationConsumer));
        var notified2 = second.Get(nameof(SlowNotificationConsumer));
        var reported1 = first.Get(nameof(ReportingConsumer));
        var reported2 = second.Get(nameof(ReportingConsumer));

        Assert.True(await Eventually.True(() => notified1.Distinct + notified2.Distinct >= EventCount
            && reported1.Distinct + reported2.Distinct >= EventCount, Timeout), "every event reaches both endpoints");

        foreach (var id in ids.Select(x => x.ToString()))
        {
            Assert.Equal(1, notified1.CountOf(id) + notified2.CountOf(id));
            Assert.Equal(1, reported1.CountOf(id) + reported2.CountOf(id));
        }

        Assert.True(notified1.Total > 0 && notified2.Total > 0,
            $"both instances of the notification endpoint took a share ({notified1.Total} and {notified2.Total})");
    }


    /// <summary>Takes a moment per event, so that one instance cannot drain the stream before the other reads.</summary>
    public class SlowNotificationConsumer :
        IConsumer<AuctionEnded>
    {
        readonly DeliveryLogs _logs;

        public SlowNotificationConsumer(DeliveryLogs logs)
        {
            _logs = logs;
        }

        public async Task Consume(ConsumeContext<AuctionEnded> context)
        {
            await Task.Delay(5);
            _logs.Get(nameof(SlowNotificationConsumer)).Record(context.Message.AuctionId.ToString());
        }
    }
}
