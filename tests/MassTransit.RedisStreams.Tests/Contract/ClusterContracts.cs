namespace MassTransit.RedisStreams.Tests.Contract;

using Xunit;


// The contract suite on a Redis Cluster of three primaries (see ClusterBinding), where an endpoint's streams live in slots of
// different primaries. Order across streams is not part of it: on a cluster, order holds per stream only.

[Trait("Category", "Cluster")]
public class ClusterSendReceive : SendReceiveContract<ClusterBinding>;

[Trait("Category", "Cluster")]
public class ClusterPublish : PublishContract<ClusterBinding>;

[Trait("Category", "Cluster")]
public class ClusterPolymorphism : PolymorphismContract<ClusterBinding>;

[Trait("Category", "Cluster")]
public class ClusterRequestResponse : RequestResponseContract<ClusterBinding>;

[Trait("Category", "Cluster")]
public class ClusterFault : FaultContract<ClusterBinding>;

[Trait("Category", "Cluster")]
public class ClusterSaga : SagaContract<ClusterBinding>;

[Trait("Category", "Cluster")]
public class ClusterTime : TimeContract<ClusterBinding>;

[Trait("Category", "Cluster")]
public class ClusterHeaders : HeadersContract<ClusterBinding>
{
    protected override string DefaultContentType => "application/vnd.masstransit.redis-streams+json";
}
