namespace MassTransit.RedisStreams.Tests.Dashboard;

/// <summary>The event the dashboard's tests publish: the ledger fails it on demand, the audit endpoint records it.</summary>
[EntityName("LotSold")]
public record LotSold(int Lot, string Buyer, decimal Price);
