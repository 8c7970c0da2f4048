namespace MassTransit.RedisStreams.Scheduling;

using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Configuration;
using Context;
using MassTransit.Configuration;
using MassTransit.Scheduling;
using Transport;


/// <summary>Gives every consume context the transport's scheduler, for <c>context.ScheduleSend</c> and saga schedules.</summary>
sealed class RedisStreamsMessageSchedulerFilter :
    IFilter<ConsumeContext>
{
    readonly Func<RedisStreamsBusContext> _bus;

    public RedisStreamsMessageSchedulerFilter(Func<RedisStreamsBusContext> bus)
    {
        _bus = bus;
    }

    public Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
    {
        context.GetOrAddPayload<MessageSchedulerContext>(() => new ConsumeMessageSchedulerContext(context,
            consumeContext => new MessageScheduler(new RedisStreamsScheduleMessageProvider(_bus, consumeContext), consumeContext.GetPayload<IBusTopology>())));

        return next.Send(context);
    }

    public void Probe(ProbeContext context)
    {
        context.CreateFilterScope("redisStreamsScheduler");
    }
}


sealed class RedisStreamsMessageSchedulerSpecification :
    IPipeSpecification<ConsumeContext>
{
    readonly Func<RedisStreamsBusContext> _bus;

    public RedisStreamsMessageSchedulerSpecification(RedisStreamsHostConfiguration hostConfiguration)
    {
        _bus = () => hostConfiguration.BusContext;
    }

    public void Apply(IPipeBuilder<ConsumeContext> builder)
    {
        builder.AddFilter(new RedisStreamsMessageSchedulerFilter(_bus));
    }

    public IEnumerable<ValidationResult> Validate()
    {
        yield break;
    }
}
