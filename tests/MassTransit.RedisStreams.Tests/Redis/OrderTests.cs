namespace MassTransit.RedisStreams.Tests.Redis;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Contract;
using Infrastructure;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// Order on one endpoint across streams, where only Redis shows it: a backlog that built up while the endpoint was down, a
/// restart of the consumer in the middle of a run, streams another writer appended to with IDs of its own, and streams with
/// deleted entries, where Redis cannot tell how many entries a group has yet to read.
/// </summary>
public class OrderTests
{
    const int Count = 1000;

    [Theory]
    [InlineData(16)]
    [InlineData(2)]
    [InlineData(1)]
    public async Task A_backlog_over_several_streams_is_received_in_the_order_it_was_sent(int prefetchCount)
    {
        var redis = await RedisTestContext.Create();
        var recorder = new Recorder<int>();

        // The endpoint's groups exist (it ran once), then it is down while the backlog builds up. With less room than streams,
        // entries that arrive ahead of their turn fill the buffer, and the reader must read past the limit to go on.
        var consumer = CreateConsumer(redis, recorder, prefetchCount: prefetchCount);
        await consumer.StartAsync();
        await consumer.StopAsync();

        var publisher = CreatePublisher(redis);
        await publisher.StartAsync();
        try
        {
            await PublishInterleaved(publisher, 0, Count);
        }
        finally
        {
            await publisher.StopAsync();
        }

        await consumer.StartAsync();
        try
        {
            AssertInOrder(await recorder.WaitForCount(Count), 0, Count);
        }
        finally
        {
            await consumer.StopAsync();
        }
    }

    [Fact]
    public async Task A_consumer_stopped_and_started_again_in_the_middle_of_a_run_continues_in_order()
    {
        var redis = await RedisTestContext.Create();
        var recorder = new Recorder<int>();

        var publisher = CreatePublisher(redis);
        await publisher.StartAsync();

        var consumer = CreateConsumer(redis, recorder, handlerDelay: TimeSpan.FromMilliseconds(1));
        await consumer.StartAsync();
        try
        {
            var publishing = PublishInterleaved(publisher, 0, Count);

            // Stop while messages are buffered and in flight, publish on meanwhile, then start again.
            await recorder.WaitForCount(Count / 4);
            await consumer.StopAsync();
            await Task.Delay(50);
            await consumer.StartAsync();

            await publishing;
            AssertInOrder(await recorder.WaitForCount(Count), 0, Count);
        }
        finally
        {
            await consumer.StopAsync();
            await publisher.StopAsync();
        }
    }

    [Fact]
    public async Task Entries_appended_by_another_writer_with_higher_ids_do_not_stop_the_transport_from_appending_in_order()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var recorder = new Recorder<int>();

        var consumer = CreateConsumer(redis, recorder);
        await consumer.StartAsync();
        try
        {
            // Another program appends with an ID far ahead of the server's clock.
            var future = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeMilliseconds();
            await db.StreamAddAsync(redis.Key("events:" + EntityNameOf<BidPlaced>()), "other", "writer", $"{future}-5");

            var publisher = CreatePublisher(redis);
            await publisher.StartAsync();
            try
            {
                await PublishInterleaved(publisher, 0, 30);
            }
            finally
            {
                await publisher.StopAsync();
            }

            var received = await recorder.WaitForCount(30);
            AssertInOrder(received, 0, 30);

            // The first publish went before the transport met the foreign entry; from the one to that stream on, every append
            // was given an ID beyond the foreign one, in every stream.
            var after = 0;
            foreach (var key in new[] { "events:" + EntityNameOf<LotOpened>(), "events:" + EntityNameOf<BidPlaced>(), "queue:lot-history" })
                after += (await db.StreamRangeAsync(redis.Key(key), $"({future}-5", "+")).Length;

            Assert.Equal(29, after);
        }
        finally
        {
            await consumer.StopAsync();
        }
    }

    [Fact]
    public async Task A_backlog_with_deleted_entries_is_received_in_order_without_them()
    {
        var redis = await RedisTestContext.Create();
        var db = await redis.Database();
        var recorder = new Recorder<int>();

        var consumer = CreateConsumer(redis, recorder);
        await consumer.StartAsync();
        await consumer.StopAsync();

        var publisher = CreatePublisher(redis);
        await publisher.StartAsync();
        try
        {
            await PublishInterleaved(publisher, 0, 90);
        }
        finally
        {
            await publisher.StopAsync();
        }

        // A deleted entry inside the unread part leaves Redis unable to count what the group has yet to read (lag is nil).
        var bids = redis.Key("events:" + EntityNameOf<BidPlaced>());
        var deleted = (await db.StreamRangeAsync(bids, "-", "+", 2))[1];
        await db.StreamDeleteAsync(bids, [deleted.Id]);

        await consumer.StartAsync();
        try
        {
            var received = await recorder.WaitForCount(89);
            var expected = Enumerable.Range(0, 90).Where(x => x != 4).ToArray();
            Assert.Equal(expected, received);
        }
        finally
        {
            await consumer.StopAsync();
        }
    }

    static IBusControl CreateConsumer(RedisTestContext redis, Recorder<int> recorder, TimeSpan? handlerDelay = null, int prefetchCount = 16)
    {
        return Bus.Factory.CreateUsingRedisStreams(cfg =>
        {
            cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix);
            cfg.ReceiveEndpoint("lot-history", e =>
            {
                e.ConcurrentMessageLimit = 1;
                e.PrefetchCount = prefetchCount;
                e.Consumer(() => new OrderedConsumer(recorder, handlerDelay ?? TimeSpan.Zero));
            });
        });
    }

    static IBusControl CreatePublisher(RedisTestContext redis)
    {
        return Bus.Factory.CreateUsingRedisStreams(cfg => cfg.Host(redis.ConnectionString, h => h.KeyPrefix = redis.KeyPrefix));
    }

    /// <summary>One after another, each awaited: two published types and one sent to the queue, interleaved.</summary>
    static async Task PublishInterleaved(IBus bus, int from, int count)
    {
        var queue = await bus.GetSendEndpoint(new Uri("queue:lot-history"));
        for (var i = from; i < from + count; i++)
        {
            switch (i % 3)
            {
                case 0:
                    await bus.Publish(new LotOpened(i));
                    break;
                case 1:
                    await bus.Publish(new BidPlaced(i));
                    break;
                default:
                    await queue.Send(new CloseLot(i));
                    break;
            }
        }
    }

    static void AssertInOrder(IReadOnlyList<int> received, int from, int count)
    {
        var firstOutOfOrder = Enumerable.Range(0, count).FirstOrDefault(i => received[i] != from + i, -1);
        Assert.True(firstOutOfOrder < 0,
            $"received out of order at position {firstOutOfOrder}: ... {string.Join(", ", received.Skip(Math.Max(0, firstOutOfOrder - 3)).Take(8))} ...");
        Assert.Equal(count, received.Count);
    }

    static string EntityNameOf<T>()
        where T : class
    {
        return typeof(T).Namespace + ":" + typeof(T).Name;
    }


    sealed class OrderedConsumer :
        IConsumer<LotOpened>,
        IConsumer<BidPlaced>,
        IConsumer<CloseLot>
    {
        readonly TimeSpan _delay;
        readonly Recorder<int> _recorder;

        public OrderedConsumer(Recorder<int> recorder, TimeSpan delay)
        {
            _recorder = recorder;
            _delay = delay;
        }

        public Task Consume(ConsumeContext<BidPlaced> context) => Record(context.Message.Sequence);

        public Task Consume(ConsumeContext<CloseLot> context) => Record(context.Message.Sequence);

        public Task Consume(ConsumeContext<LotOpened> context) => Record(context.Message.Sequence);

        async Task Record(int sequence)
        {
            if (_delay > TimeSpan.Zero)
                await Task.Delay(_delay);

            _recorder.Add(sequence);
        }
    }
}
