namespace MassTransit.RedisStreams.Tests.Unit;

using System;
using System.Linq;
using RedisStreams.Redis;
using StackExchange.Redis;
using Xunit;


/// <summary>Held entries are packed as MessagePack for the move script; the CLI reads them back.</summary>
public class PackedEntryTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(65_535)]
    [InlineData(65_536)]
    [InlineData(300_000)]
    public void Fields_of_any_length_come_back_as_they_were(int bodyLength)
    {
        var body = Enumerable.Range(0, bodyLength).Select(i => (byte)(i * 7)).ToArray();
        var entry = new NewEntry();
        entry.Add("body", body);
        entry.Add("MessageId", Guid.NewGuid().ToString("D"));
        entry.Add("Empty", "");

        var fields = PackedEntry.Unpack(PackedEntry.Pack(entry.Fields, onlyIfStreamExists: true, mapped: false));

        Assert.Equal(3, fields.Length);
        Assert.Equal("body", (string?)fields[0].Name);
        Assert.Equal(body, (byte[]?)fields[0].Value);
        Assert.Equal((string?)entry.Fields[3], (string?)fields[1].Value);
        Assert.Equal("", (string?)fields[2].Value);
    }

    [Fact]
    public void Many_fields_use_the_longer_array_header()
    {
        var entry = new NewEntry();
        for (var i = 0; i < 40; i++)
            entry.Add("h" + i, "v" + i);

        var fields = PackedEntry.Unpack(PackedEntry.Pack(entry.Fields, onlyIfStreamExists: false, mapped: true));

        Assert.Equal(Enumerable.Range(0, 40).Select(i => "v" + i), fields.Select(x => (string?)x.Value));
    }

    [Fact]
    public void No_value_is_no_fields()
    {
        Assert.Empty(PackedEntry.Unpack(RedisValue.Null));
    }
}
