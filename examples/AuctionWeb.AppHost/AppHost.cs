// The auction web app with its Redis, the way Aspire starts them: a Redis container with a data volume and RedisInsight
// beside it, and the web app with ConnectionStrings:redis pointing at that Redis. Aspire also sets
// OTEL_EXPORTER_OTLP_ENDPOINT for the web app, which then sends its traces and metrics to Aspire's dashboard.

using System;
using Aspire.Hosting;

var builder = DistributedApplication.CreateBuilder(args);

// Aspire's Redis takes no AOF setting (it builds the redis-server command line itself); WithPersistence is its RDB
// snapshot, here every 10 s when a key changed. So a crash of the container can lose the last seconds of the streams,
// which a development Redis may; docker-compose.yml runs Redis with AOF for when it may not.
var redis = builder.AddRedis("redis")
    .WithDataVolume()
    .WithPersistence(interval: TimeSpan.FromSeconds(10), keysChangedThreshold: 1)
    .WithRedisInsight();

builder.AddProject<Projects.AuctionWeb>("auctionweb")
    .WithReference(redis)
    .WaitFor(redis)
    .WithEnvironment("Demo__AutoOpen", "true")
    .WithHttpHealthCheck("/health/ready");

builder.Build().Run();
