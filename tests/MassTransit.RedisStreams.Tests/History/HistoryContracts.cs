namespace MassTransit.RedisStreams.Tests.History;

using System;


public interface ILotEvent
{
    int Lot { get; }
}


[EntityName("LotSold")]
public record LotSold(int Lot, string Buyer, decimal Price) :
    ILotEvent;


[EntityName("LotWithdrawn")]
public record LotWithdrawn(int Lot, string Reason) :
    ILotEvent;


/// <summary>LotSold as it was first published: the price was whole pounds, and there was no buyer.</summary>
[EntityName("LotSoldV1")]
public record LotSoldV1(int Lot, int Pounds);


/// <summary>An old shape kept under the current contract's stream and name, with its original message URN.</summary>
[EntityName("LotSold")]
[MessageUrn("LotSold")]
public record LotSoldLegacy(int Lot, string Price);
