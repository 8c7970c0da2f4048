namespace MassTransit.RedisStreams.Tests.Unit;

using System;
using System.Text;
using RedisStreams.Redis;
using RedisStreams.Transport;
using StackExchange.Redis;
using Xunit;


/// <summary>
/// Field names and entry IDs are compared as bytes and strings rather than as <see cref="RedisValue" />s: the same answers
/// whether a name or ID came from Redis (bytes) or was made in the process (text), and the same duplicate keys as before.
/// </summary>
public class EntryFieldTests
{
    static readonly Guid MessageId = Guid.Parse("0b8e0000-5d7f-0015-4b8a-08de1a2b3c4d");

    static NewEntry Sample(Func<string, RedisValue> name)
    {
        var entry = new NewEntry(2);
        entry.Add(name("body"), Encoding.UTF8.GetBytes("{\"id\":1,\"text\":\"hello\"}"));
        entry.Add(name("MessageId"), "0b8e0000-5d7f-0015-4b8a-08de1a2b3c4d");
        entry.Add(name("MT-Host"), "0123456789abcdef");
        entry.Add(name("MT-MessageType"), "urn:message:Sample:Placed;urn:message:Sample:IEvent");
        entry.Add(name("MT-Redelivery-Count"), "2");
        return entry;
    }

    [Fact]
    public void The_duplicate_key_is_what_earlier_versions_made_so_a_send_retried_across_an_upgrade_is_still_recognised()
    {
        var entry = Sample(x => x);
        entry.SetDuplicateKey(MessageId);

        // Made by the version before field names were kept as text (d5fccdb) from the same fields.
        Assert.Equal("00008E0B7F5D15004B8A08DE1A2B3C4D18E03F9C2B893137", Convert.ToHexString((byte[])entry.DuplicateKey!));
    }

    [Fact]
    public void Names_added_as_bytes_give_the_same_duplicate_key_and_lookups_as_names_added_as_text()
    {
        var text = new NewEntry(2);
        var bytes = Sample(x => Encoding.UTF8.GetBytes(x));
        foreach (var pair in new[] { "body", "MessageId", "MT-Host", "MT-MessageType", "MT-Redelivery-Count" })
            text.Add(pair, bytes.Get(pair));

        text.SetDuplicateKey(MessageId);
        bytes.SetDuplicateKey(MessageId);

        Assert.Equal((byte[])text.DuplicateKey!, (byte[])bytes.DuplicateKey!);
        Assert.True(bytes.Contains("MT-Host"));
        Assert.False(bytes.Contains("MT-host"));
        Assert.Equal("0123456789abcdef", (string?)bytes.Get("MT-Host"));
        Assert.True(bytes.Get("CorrelationId").IsNull);
        Assert.Equal(5, bytes.Count);
    }

    [Fact]
    public void A_name_encoded_once_goes_to_Redis_as_bytes_and_is_found_by_its_text()
    {
        var entry = new NewEntry(1);
        entry.Add(new FieldName("MT-Host"), "x");
        entry.Add("Custom", "y");

        Assert.Equal(Encoding.UTF8.GetBytes("MT-Host"), (byte[]?)entry.Fields[0]);
        Assert.Equal("x", (string?)entry.Get("MT-Host"));
        Assert.Equal("y", (string?)entry.Get("Custom"));
        Assert.Equal("MT-Host".Length + 1 + "Custom".Length + 1, entry.Size);
    }

    [Fact]
    public void Entry_fields_are_found_by_their_bytes_whether_Redis_or_the_process_made_the_names()
    {
        var fromRedis = new StreamEntry(Encoding.UTF8.GetBytes("1-0"),
            [new NameValueEntry(Encoding.UTF8.GetBytes("MT-Host"), "a"), new NameValueEntry(Encoding.UTF8.GetBytes("MT-Host"), "b")]);
        var made = new StreamEntry("1-0", [new NameValueEntry("data", "{}"), new NameValueEntry("MT-Expiration-Time", "t")]);

        Assert.Equal("a", (string?)EntryFields.Get(fromRedis, EntryFieldNames.HostBytes));
        Assert.True(EntryFields.Get(fromRedis, EntryFieldNames.ExpirationTimeBytes).IsNull);
        Assert.Equal("t", (string?)EntryFields.Get(made, EntryFieldNames.ExpirationTimeBytes));
        Assert.True(EntryFields.Get(new StreamEntry("1-0", null!), EntryFieldNames.HostBytes).IsNull);

        var (field, body) = EntryValidator.GetBody(made);
        Assert.Equal(EntryFieldNames.AlternateBody, field);
        Assert.Equal("{}", (string?)body);
        Assert.True(EntryValidator.GetBody(fromRedis).Body.IsNull);
    }

    [Fact]
    public void Entry_keys_of_one_ID_are_equal_and_hash_alike_whether_the_ID_is_bytes_or_text()
    {
        RedisKey stream = "queue:a";
        var bytes = new EntryKey(stream, Encoding.UTF8.GetBytes("1700000000000-0"));
        var text = new EntryKey(stream, "1700000000000-0");

        Assert.Equal(bytes, text);
        Assert.Equal(bytes.GetHashCode(), text.GetHashCode());
        Assert.NotEqual(bytes, new EntryKey(stream, "1700000000000-1"));
        Assert.NotEqual(bytes, new EntryKey("queue:b", "1700000000000-0"));
        Assert.NotEqual(new EntryKey(stream, RedisValue.Null), new EntryKey(stream, ""));
    }
}
