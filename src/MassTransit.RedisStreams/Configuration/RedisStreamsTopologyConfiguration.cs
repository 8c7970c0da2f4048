namespace MassTransit.RedisStreams.Configuration;

using System.Collections.Generic;
using System.Linq;
using MassTransit.Configuration;
using MassTransit.Topology;
using Topology;
using Transports;


/// <summary>
/// Send and publish topology are shared by the bus; each receive endpoint gets a consume topology of its own.
/// </summary>
sealed class RedisStreamsTopologyConfiguration :
    ITopologyConfiguration
{
    public static readonly IEntityNameFormatter EntityNameFormatter =
        new MessageNameFormatterEntityNameFormatter(new DefaultMessageNameFormatter("::", "--", ":", "-"));

    public RedisStreamsTopologyConfiguration()
    {
        Message = new MessageTopology(EntityNameFormatter);

        var sendTopology = new SendTopology();
        sendTopology.ConnectSendTopologyConfigurationObserver(new DelegateSendTopologyConfigurationObserver(GlobalTopology.Send));
        Send = sendTopology;

        Publish = new RedisStreamsPublishTopology(Message);
        Publish.ConnectPublishTopologyConfigurationObserver(new DelegatePublishTopologyConfigurationObserver(GlobalTopology.Publish));
        Publish.ConnectPublishTopologyConfigurationObserver(new PublishToSendTopologyConfigurationObserver(Send));

        Consume = new RedisStreamsConsumeTopology(Message);
    }

    public RedisStreamsTopologyConfiguration(RedisStreamsTopologyConfiguration parent)
    {
        Message = parent.Message;
        Send = parent.Send;
        Publish = parent.Publish;
        Consume = new RedisStreamsConsumeTopology(parent.Message);
    }

    public IMessageTopologyConfigurator Message { get; }
    public ISendTopologyConfigurator Send { get; }
    public RedisStreamsPublishTopology Publish { get; }
    public RedisStreamsConsumeTopology Consume { get; }

    IPublishTopologyConfigurator ITopologyConfiguration.Publish => Publish;
    IConsumeTopologyConfigurator ITopologyConfiguration.Consume => Consume;

    public IEnumerable<ValidationResult> Validate()
    {
        return Send.Validate().Concat(Publish.Validate()).Concat(Consume.Validate());
    }
}
