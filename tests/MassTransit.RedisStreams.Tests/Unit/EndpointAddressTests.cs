namespace MassTransit.RedisStreams.Tests.Unit;

using System;
using Transport;
using Xunit;


public class EndpointAddressTests
{
    static readonly RedisStreamsHostAddress Host = new("localhost", 6379, "");
    static readonly RedisStreamsHostAddress PrefixedHost = new("redis1", 6380, "shop");

    [Theory]
    [InlineData("queue:orders", "redis://localhost/orders")]
    [InlineData("queue:orders?temporary=true", "redis://localhost/orders?temporary=true")]
    [InlineData("topic:Auctions:AuctionEnded", "redis://localhost/Auctions:AuctionEnded?type=topic")]
    [InlineData("redis://localhost/orders", "redis://localhost/orders")]
    [InlineData("redis://localhost:6379/orders", "redis://localhost/orders")]
    [InlineData("exchange:orders", "redis://localhost/orders?type=exchange")]
    [InlineData("exchange:Auctions:AuctionEnded?type=fanout", "redis://localhost/Auctions:AuctionEnded?type=exchange")]
    [InlineData("queue:orders?bind=true&queue=orders&durable=false", "redis://localhost/orders")]
    [InlineData("queue:orders?type=topic", "redis://localhost/orders")]
    [InlineData("redis://localhost//orders?bind=true", "redis://localhost/orders")]
    [InlineData("redis://localhost/shop//orders?bind=true", "redis://localhost/shop/orders")]
    [InlineData("redis://localhost/shop/orders?type=exchange", "redis://localhost/shop/orders?type=exchange")]
    public void Short_and_full_forms_normalize_to_one_address(string address, string expected)
    {
        Assert.Equal(expected, RedisStreamsEndpointAddress.Parse(Host, new Uri(address)).ToString());
    }

    [Theory]
    [InlineData("redis://localhost/orders")]
    [InlineData("redis://redis1:6380/shop/orders")]
    [InlineData("redis://redis1:6380/shop/bus-abc?temporary=true")]
    [InlineData("redis://redis1:6380/shop/Auctions:AuctionEnded?type=topic")]
    public void Full_addresses_round_trip(string address)
    {
        var parsed = RedisStreamsEndpointAddress.Parse(PrefixedHost, new Uri(address));

        Assert.Equal(address, parsed.ToString());
        Assert.Equal(address, RedisStreamsEndpointAddress.Parse(PrefixedHost, parsed.ToUri()).ToString());
    }

    [Fact]
    public void Short_forms_take_host_and_prefix_from_the_bus()
    {
        var address = RedisStreamsEndpointAddress.Parse(PrefixedHost, new Uri("queue:orders"));

        Assert.Equal("redis://redis1:6380/shop/orders", address.ToString());
        Assert.Equal("shop:queue:orders", address.GetStreamKey().ToString());
    }

    [Fact]
    public void An_exchange_address_names_both_the_queue_and_the_event_stream_of_its_name()
    {
        var address = RedisStreamsEndpointAddress.Parse(PrefixedHost, new Uri("exchange:grill"));

        Assert.Equal(AddressKind.Exchange, address.Kind);
        Assert.Equal("shop:queue:grill", address.GetQueueKey().ToString());
        Assert.Equal("shop:events:grill", address.GetEventStreamKey().ToString());
    }

    [Fact]
    public void Topic_addresses_name_event_streams()
    {
        var address = RedisStreamsEndpointAddress.Parse(Host, new Uri("topic:AuctionEnded"));

        Assert.Equal("events:AuctionEnded", address.GetStreamKey().ToString());
    }

    [Theory]
    [InlineData("rabbitmq://localhost/orders")]
    [InlineData("queue:bad{name}")]
    [InlineData("redis://localhost/a/b/c")]
    [InlineData("redis://localhost/")]
    public void Addresses_that_cannot_be_a_stream_are_refused_with_a_reason(string address)
    {
        var exception = Assert.Throws<ArgumentException>(() => RedisStreamsEndpointAddress.Parse(Host, new Uri(address)));

        Assert.False(string.IsNullOrWhiteSpace(exception.Message));
    }
}
