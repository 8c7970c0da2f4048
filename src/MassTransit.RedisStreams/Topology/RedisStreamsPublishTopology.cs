namespace MassTransit.RedisStreams.Topology;

using MassTransit.Configuration;
using MassTransit.Topology;
using Metadata;


/// <summary>
/// Publishing <c>T</c> appends to the event stream of <c>T</c>'s entity name. Every type <c>T</c> implements (interfaces, base
/// classes) is recorded, so that consumers of those types also read <c>T</c>'s stream.
/// </summary>
sealed class RedisStreamsPublishTopology :
    PublishTopology
{
    readonly IMessageTopology _messageTopology;

    public RedisStreamsPublishTopology(IMessageTopology messageTopology)
    {
        _messageTopology = messageTopology;
    }

    public RedisStreamsMessagePublishTopology<T> GetRedisMessageTopology<T>()
        where T : class
    {
        return (RedisStreamsMessagePublishTopology<T>)GetMessageTopology<T>();
    }

    protected override IMessagePublishTopologyConfigurator CreateMessageTopology<T>()
    {
        var topology = new RedisStreamsMessagePublishTopology<T>(this, _messageTopology.GetMessageTopology<T>());

        ImplementedMessageTypeCache<T>.EnumerateImplementedTypes(new ImplementedTypeCollector<T>(this, topology));

        OnMessageTopologyCreated(topology);

        return topology;
    }


    sealed class ImplementedTypeCollector<TMessage> :
        IImplementedMessageType
        where TMessage : class
    {
        readonly RedisStreamsPublishTopology _publishTopology;
        readonly RedisStreamsMessagePublishTopology<TMessage> _topology;

        public ImplementedTypeCollector(RedisStreamsPublishTopology publishTopology, RedisStreamsMessagePublishTopology<TMessage> topology)
        {
            _publishTopology = publishTopology;
            _topology = topology;
        }

        public void ImplementsMessageType<T>(bool direct)
            where T : class
        {
            _topology.AddImplementedType(_publishTopology.GetRedisMessageTopology<T>());
        }
    }
}
