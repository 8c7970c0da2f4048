namespace MassTransit.RedisStreams.Tests.Contract;

using Xunit;


// The contract suite on a Redis Cluster of three primaries (see ClusterBinding), where an endpoint's streams live in slots of
// different primaries. Order across streams is not part of it: on a cluster, order holds per stream only. The classes form
// one collection, whose fixture starts and stops the cluster; they run one after the other.

[Trait("Category", "Cluster")]
[Collection(ClusterContractFixture.Collection)]
public class ClusterSendReceive : SendReceiveContract<ClusterBinding>;

[Trait("Category", "Cluster")]
[Collection(ClusterContractFixture.Collection)]
public class ClusterPublish : PublishContract<ClusterBinding>;

[Trait("Category", "Cluster")]
[Collection(ClusterContractFixture.Collection)]
public class ClusterPolymorphism : PolymorphismContract<ClusterBinding>;

[Trait("Category", "Cluster")]
[Collection(ClusterContractFixture.Collection)]
public class ClusterRequestResponse : RequestResponseContract<ClusterBinding>;

[Trait("Category", "Cluster")]
[Collection(ClusterContractFixture.Collection)]
public class ClusterFault : FaultContract<ClusterBinding>;

[Trait("Category", "Cluster")]
[Collection(ClusterContractFixture.Collection)]
public class ClusterSaga : SagaContract<ClusterBinding>;

[Trait("Category", "Cluster")]
[Collection(ClusterContractFixture.Collection)]
public class ClusterTime : TimeContract<ClusterBinding>;

[Trait("Category", "Cluster")]
[Collection(ClusterContractFixture.Collection)]
public class ClusterHeaders : HeadersContract<ClusterBinding>
{
    protected override string DefaultContentType => "application/vnd.masstransit.redis-streams+json";
}
