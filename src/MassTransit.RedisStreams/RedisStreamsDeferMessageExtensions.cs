namespace MassTransit;

using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Reflection;
using System.Threading.Tasks;
using Middleware;


/// <summary>
/// <c>context.Defer(delay)</c> for the Redis Streams transport: the message being consumed goes back to the endpoint's
/// stream after the delay, held in Redis meanwhile, with its redelivery count raised.
/// </summary>
public static class RedisStreamsDeferMessageExtensions
{
    static readonly ConcurrentDictionary<Type, Func<ConsumeContext, TimeSpan, Action<ConsumeContext, SendContext>?, Task>?> Deferrers = new();

    static readonly MethodInfo DeferMessageMethod = typeof(RedisStreamsDeferMessageExtensions).GetMethod(nameof(DeferMessage),
        BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>
    /// Defers the message being consumed: it is sent back to the endpoint it was received on, to be delivered again after
    /// <paramref name="delay" />, as MassTransit's delayed redelivery does, and is held in Redis (not in this process) until then.
    /// The consume completes normally, so the entry being handled is acknowledged.
    /// </summary>
    /// <remarks>
    /// Works on any <see cref="ConsumeContext" /> of a message, so an application switched from RabbitMQ or ActiveMQ keeps its
    /// <c>context.Defer(...)</c> calls; where one of those transports' packages is still referenced, its own <c>Defer</c> is the
    /// closer match and is used, with the same effect.
    /// </remarks>
    /// <param name="context">The consume context of the message to defer.</param>
    /// <param name="delay">How long to wait before the message is delivered again.</param>
    /// <param name="callback">Optionally changes the send context of the deferred message, for example to add a header.</param>
    /// <exception cref="ArgumentException">The context carries no message (it is not a <see cref="ConsumeContext{T}" />).</exception>
    public static Task Defer(this ConsumeContext context, TimeSpan delay, Action<ConsumeContext, SendContext>? callback = null)
    {
        ArgumentNullException.ThrowIfNull(context);

        var defer = Deferrers.GetOrAdd(context.GetType(), CreateDeferrer)
            ?? throw new ArgumentException($"Defer needs the consume context of a message (ConsumeContext<T>); {TypeCache.GetShortName(context.GetType())} carries none.",
                nameof(context));

        return defer(context, delay, callback);
    }

    static Func<ConsumeContext, TimeSpan, Action<ConsumeContext, SendContext>?, Task>? CreateDeferrer(Type contextType)
    {
        var messageType = contextType.GetInterfaces()
            .Where(x => x.IsGenericType && x.GetGenericTypeDefinition() == typeof(ConsumeContext<>))
            .Select(x => x.GetGenericArguments()[0])
            .FirstOrDefault();

        return messageType == null
            ? null
            : DeferMessageMethod.MakeGenericMethod(messageType)
            .CreateDelegate<Func<ConsumeContext, TimeSpan, Action<ConsumeContext, SendContext>?, Task>>();
    }

    static Task DeferMessage<T>(ConsumeContext context, TimeSpan delay, Action<ConsumeContext, SendContext>? callback)
        where T : class
    {
        var redelivery = new DelayedMessageRedeliveryContext<T>((ConsumeContext<T>)context, RedeliveryOptions.None);

        return redelivery.ScheduleRedelivery(delay, callback);
    }
}
