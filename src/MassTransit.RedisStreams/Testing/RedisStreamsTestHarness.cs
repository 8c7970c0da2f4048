namespace MassTransit.Testing;

using System;
using System.Threading.Tasks;
using RedisStreams.Redis;
using StackExchange.Redis;


/// <summary>
/// MassTransit's older-style test harness on Redis Streams, with the shape of <see cref="InMemoryTestHarness" /> and
/// MassTransit's <c>RabbitMqTestHarness</c>: a test written against either switches by changing the class. The harness runs
/// one bus with a receive endpoint named <see cref="InputQueueName" />, under a key prefix of its own, so harnesses that
/// share a Redis do not see each other's streams; <see cref="Clean" /> deletes what the prefix holds.
/// </summary>
/// <example>
/// <code>
/// var harness = new RedisStreamsTestHarness { Configuration = "localhost:6379" };
/// var consumer = harness.Consumer&lt;SubmitOrderConsumer&gt;();
/// await harness.Start();
/// try
/// {
///     await harness.InputQueueSendEndpoint.Send(new SubmitOrder(orderId));
///     Assert.True(await consumer.Consumed.Any&lt;SubmitOrder&gt;());
/// }
/// finally
/// {
///     await harness.Stop();
/// }
/// </code>
/// </example>
public class RedisStreamsTestHarness :
    BusTestHarness
{
    Uri _inputQueueAddress;

    /// <param name="inputQueueName">The name of the harness's receive endpoint; <c>input_queue</c> by default.</param>
    public RedisStreamsTestHarness(string? inputQueueName = null)
    {
        InputQueueName = inputQueueName ?? "input_queue";
        KeyPrefix = "test-" + NewId.NextGuid().ToString("N");
        Configuration = Environment.GetEnvironmentVariable("REDIS_CONNECTION") is { Length: > 0 } connection ? connection : "localhost:6379";
        _inputQueueAddress = new Uri("queue:" + InputQueueName);
    }

    /// <summary>
    /// The StackExchange.Redis configuration string of the Redis to test against: the <c>REDIS_CONNECTION</c> environment
    /// variable when it is set, else <c>localhost:6379</c>.
    /// </summary>
    public string Configuration { get; set; }

    /// <summary>The harness's own key prefix, new for each harness, so that harnesses on one Redis stay apart.</summary>
    public string KeyPrefix { get; set; }

    /// <summary>Whether <see cref="BusTestHarness.Stop" /> is followed by <see cref="Clean" />. Default true.</summary>
    public bool CleanOnStop { get; set; } = true;

    /// <inheritdoc />
    public override string InputQueueName { get; }

    /// <inheritdoc />
    public override Uri InputQueueAddress => _inputQueueAddress;

    /// <summary>Configures the bus beyond what the harness does.</summary>
    public event Action<IRedisStreamsBusFactoryConfigurator>? OnConfigureRedisStreamsBus;

    /// <summary>Configures the harness's receive endpoint beyond what the harness does.</summary>
    public event Action<IRedisStreamsReceiveEndpointConfigurator>? OnConfigureRedisStreamsReceiveEndpoint;

    /// <summary>Configures the transport settings beyond the connection and the key prefix.</summary>
    public event Action<IRedisStreamsHostConfigurator>? OnConfigureRedisStreamsHost;

    /// <summary>Configures the bus; raises <see cref="OnConfigureRedisStreamsBus" />.</summary>
    protected virtual void ConfigureRedisStreamsBus(IRedisStreamsBusFactoryConfigurator configurator)
    {
        OnConfigureRedisStreamsBus?.Invoke(configurator);
    }

    /// <summary>Configures the receive endpoint; raises <see cref="OnConfigureRedisStreamsReceiveEndpoint" />.</summary>
    protected virtual void ConfigureRedisStreamsReceiveEndpoint(IRedisStreamsReceiveEndpointConfigurator configurator)
    {
        OnConfigureRedisStreamsReceiveEndpoint?.Invoke(configurator);
    }

    /// <summary>Configures the transport settings; raises <see cref="OnConfigureRedisStreamsHost" />.</summary>
    protected virtual void ConfigureRedisStreamsHost(IRedisStreamsHostConfigurator configurator)
    {
        OnConfigureRedisStreamsHost?.Invoke(configurator);
    }

    /// <summary>A request client for requests to the harness's receive endpoint.</summary>
    /// <typeparam name="TRequest">The request type.</typeparam>
    public virtual Task<IRequestClient<TRequest>> ConnectRequestClient<TRequest>()
        where TRequest : class
    {
        return ConnectRequestClient<TRequest>(InputQueueAddress);
    }

    /// <summary>A request client for requests to <paramref name="destinationAddress" />.</summary>
    /// <param name="destinationAddress">Where the requests go.</param>
    /// <typeparam name="TRequest">The request type.</typeparam>
    public virtual Task<IRequestClient<TRequest>> ConnectRequestClient<TRequest>(Uri destinationAddress)
        where TRequest : class
    {
        return Task.FromResult(Bus.CreateRequestClient<TRequest>(destinationAddress, TestTimeout));
    }

    /// <inheritdoc />
    protected override Task<IBusControl> CreateBus()
    {
        var bus = MassTransit.Bus.Factory.CreateUsingRedisStreams(x =>
        {
            x.Host(Configuration, h =>
            {
                h.KeyPrefix = KeyPrefix;
                ConfigureRedisStreamsHost(h);
            });

            ConfigureBus(x);

            ConfigureRedisStreamsBus(x);

            x.ReceiveEndpoint(InputQueueName, e =>
            {
                ConfigureReceiveEndpoint(e);

                ConfigureRedisStreamsReceiveEndpoint(e);

                _inputQueueAddress = e.InputAddress;
            });

            BusConfigured(x);
        });

        return Task.FromResult(bus);
    }

    /// <inheritdoc />
    public override async Task Stop()
    {
        await base.Stop().ConfigureAwait(false);

        if (CleanOnStop)
            await Clean().ConfigureAwait(false);
    }

    /// <summary>Deletes every key under the harness's key prefix, on every primary.</summary>
    public override async Task Clean()
    {
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(RedisConfiguration.Parse(Configuration)).ConfigureAwait(false);
        await using (multiplexer.ConfigureAwait(false))
        {
            var pattern = KeyPrefix.TrimEnd(':') + ":*";
            var database = multiplexer.GetDatabase();
            foreach (var server in multiplexer.GetServers())
            {
                if (!server.IsConnected || server.IsReplica)
                    continue;

                await foreach (var key in server.KeysAsync(pattern: pattern, pageSize: 500).ConfigureAwait(false))
                    await database.KeyDeleteAsync(key).ConfigureAwait(false);
            }
        }
    }
}
