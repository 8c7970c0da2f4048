namespace MassTransit.RedisStreams.Topology;

using System.Collections.Generic;
using System.Linq;
using MassTransit.Configuration;
using MassTransit.Topology;


/// <summary>
/// The consume topology of one receive endpoint: the entity names whose event streams the endpoint subscribes to.
/// </summary>
sealed class RedisStreamsConsumeTopology :
    ConsumeTopology
{
    readonly List<string> _entityNames;
    readonly IMessageTopology _messageTopology;

    public RedisStreamsConsumeTopology(IMessageTopology messageTopology)
    {
        _messageTopology = messageTopology;
        _entityNames = [];
    }

    public void Subscribe(string entityName)
    {
        _entityNames.Add(entityName);
    }

    public void Subscribe<T>()
        where T : class
    {
        ((RedisStreamsMessageConsumeTopology<T>)GetMessageTopology<T>()).Subscribe();
    }

    /// <summary>Subscribes to <typeparamref name="T" /> unless its consume topology was switched off for this endpoint.</summary>
    public void SubscribeIfConfigured<T>()
        where T : class
    {
        var topology = (RedisStreamsMessageConsumeTopology<T>)GetMessageTopology<T>();
        if (topology.ConfigureConsumeTopology)
            topology.Subscribe();
    }

    /// <summary>The entity names of every type the endpoint subscribes to, once each.</summary>
    public IReadOnlyList<string> GetSubscribedEntityNames()
    {
        var names = new List<string>(_entityNames);

        ForEach<IRedisStreamsMessageConsumeTopology>(x =>
        {
            if (x.IsSubscribed)
                names.Add(x.EntityName);
        });

        return names.Distinct().ToList();
    }

    public override IEnumerable<ValidationResult> Validate()
    {
        foreach (var result in base.Validate())
            yield return result;

        foreach (var name in _entityNames)
        {
            var problem = Redis.StreamKeys.DescribeInvalidName(name);
            if (problem != null)
                yield return this.Failure("Subscribe", $"The entity name '{name}' {problem}");
        }
    }

    protected override IMessageConsumeTopologyConfigurator CreateMessageTopology<T>()
    {
        var topology = new RedisStreamsMessageConsumeTopology<T>(_messageTopology.GetMessageTopology<T>());

        OnMessageTopologyCreated(topology);

        return topology;
    }
}
