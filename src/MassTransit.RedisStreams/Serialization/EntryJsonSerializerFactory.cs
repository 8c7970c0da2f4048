namespace MassTransit.RedisStreams.Serialization;

using System;
using System.Net.Mime;


/// <summary>Registers <see cref="EntryJsonSerializer" /> with MassTransit; one serializer serves every endpoint.</summary>
sealed class EntryJsonSerializerFactory :
    ISerializerFactory
{
    readonly Lazy<EntryJsonSerializer> _serializer = new(() => new EntryJsonSerializer());

    public ContentType ContentType => EntryJsonSerializer.EntryJsonContentType;

    public IMessageSerializer CreateSerializer() => _serializer.Value;

    public IMessageDeserializer CreateDeserializer() => _serializer.Value;
}
