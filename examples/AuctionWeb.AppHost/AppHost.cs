// The auction web app with its Redis, the way Aspire starts them: a Redis container with a data volume and RedisInsight
// beside it, and the web app with ConnectionStrings:redis pointing at that Redis. Aspire also sets
// OTEL_EXPORTER_OTLP_ENDPOINT for the web app, which then sends its traces and metrics to Aspire's dashboard.

using System;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;

var builder = DistributedApplication.CreateBuilder(args);

IResourceBuilder<IResourceWithConnectionString> redis;
if (builder.Configuration.GetConnectionString("redis") is { Length: > 0 })
{
    // A Redis that already runs (ConnectionStrings:redis in the app host's settings, or --ConnectionStrings:redis=...):
    // no container, so the app host also runs where there is no container runtime.
    redis = builder.AddConnectionString("redis");
}
else
{
    // Aspire's Redis takes no AOF setting (it builds the redis-server command line itself); WithPersistence is its RDB
    // snapshot, here every 10 s when a key changed. So a crash of the container can lose the last seconds of the streams,
    // which a development Redis may; docker-compose.yml runs Redis with AOF for when it may not.
    redis = builder.AddRedis("redis")
        .WithDataVolume()
        .WithPersistence(interval: TimeSpan.FromSeconds(10), keysChangedThreshold: 1)
        .WithRedisInsight();
}

var web = builder.AddProject<Projects.AuctionWeb>("auctionweb")
    .WithReference(redis)
    .WithEnvironment("Demo__AutoOpen", "true")
    .WithHttpHealthCheck("/health/ready");
if (redis.Resource is RedisResource)
    web.WaitFor(redis);

builder.Build().Run();
