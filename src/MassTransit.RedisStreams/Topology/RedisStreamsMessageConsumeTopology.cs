namespace MassTransit.RedisStreams.Topology;

using System.Collections.Generic;
using MassTransit.Configuration;


interface IRedisStreamsMessageConsumeTopology
{
    string EntityName { get; }
    bool IsSubscribed { get; }
}


sealed class RedisStreamsMessageConsumeTopology<TMessage> :
    MessageConsumeTopology<TMessage>,
    IRedisStreamsMessageConsumeTopology
    where TMessage : class
{
    readonly IMessageTopology<TMessage> _messageTopology;
    bool _invalid;

    public RedisStreamsMessageConsumeTopology(IMessageTopology<TMessage> messageTopology)
    {
        _messageTopology = messageTopology;
    }

    public string EntityName => _messageTopology.EntityName;
    public bool IsSubscribed { get; private set; }

    public void Subscribe()
    {
        if (IsBindableMessageType)
            IsSubscribed = true;
        else
            _invalid = true;
    }

    public override IEnumerable<ValidationResult> Validate()
    {
        foreach (var result in base.Validate())
            yield return result;

        if (_invalid)
            yield return this.Failure("Subscribe", $"{TypeCache<TMessage>.ShortName} is not a message type that can be subscribed to");
    }
}
