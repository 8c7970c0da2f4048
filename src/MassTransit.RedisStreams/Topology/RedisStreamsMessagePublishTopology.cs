namespace MassTransit.RedisStreams.Topology;

using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Linq;
using MassTransit.Configuration;
using MassTransit.Topology;
using Transport;


interface IRedisStreamsMessagePublishTopology
{
    string EntityName { get; }
    bool Exclude { get; }
}


sealed class RedisStreamsMessagePublishTopology<TMessage> :
    MessagePublishTopology<TMessage>,
    IRedisStreamsMessagePublishTopology
    where TMessage : class
{
    readonly List<IRedisStreamsMessagePublishTopology> _implementedTypes;
    readonly IMessageTopology<TMessage> _messageTopology;

    public RedisStreamsMessagePublishTopology(IPublishTopology publishTopology, IMessageTopology<TMessage> messageTopology)
        : base(publishTopology)
    {
        _messageTopology = messageTopology;
        _implementedTypes = [];
    }

    public string EntityName => _messageTopology.EntityName;

    /// <summary>
    /// The entity names of the types this type implements, directly or not, leaving out those excluded from the topology.
    /// </summary>
    public IEnumerable<string> GetImplementedEntityNames()
    {
        return _implementedTypes.Where(x => !x.Exclude).Select(x => x.EntityName).Where(x => x != EntityName).Distinct();
    }

    public void AddImplementedType(IRedisStreamsMessagePublishTopology implementedType)
    {
        _implementedTypes.Add(implementedType);
    }

    public override bool TryGetPublishAddress(Uri baseAddress, [NotNullWhen(true)] out Uri? publishAddress)
    {
        var host = RedisStreamsHostAddress.Parse(baseAddress);

        publishAddress = new RedisStreamsEndpointAddress(host, EntityName, AddressKind.Topic).ToUri();
        return true;
    }

    public override IEnumerable<ValidationResult> Validate()
    {
        foreach (var result in base.Validate())
            yield return result;

        var problem = Redis.StreamKeys.DescribeInvalidName(EntityName);
        if (problem != null)
            yield return this.Failure("EntityName", $"The entity name '{EntityName}' of {TypeCache<TMessage>.ShortName} {problem}");
    }
}
