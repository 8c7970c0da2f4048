namespace MassTransit.RedisStreams.Tests.Scheduling;

using Contract;


/// <summary>The job consumer contract with the transport's own scheduler, which cancels what the job sagas unschedule.</summary>
public class TransportSchedulerJobTests :
    JobContract<RedisBinding>
{
    protected override void AddScheduler(IBusRegistrationConfigurator registration)
    {
        registration.AddRedisStreamsMessageScheduler();
    }

    protected override void UseScheduler(IBusFactoryConfigurator bus)
    {
        bus.UseRedisStreamsMessageScheduler();
    }
}
