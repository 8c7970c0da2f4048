namespace MassTransit.RedisStreams.Tests.Contract;

using System;
using System.Linq;
using System.Threading.Tasks;
using MassTransit.Contracts.JobService;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;


public record RenderInvoice(Guid InvoiceId, TimeSpan Duration, bool FailFirstAttempt);


/// <summary>Renders an invoice: takes its time, and when asked to, fails its first attempt.</summary>
public class RenderInvoiceJobConsumer :
    IJobConsumer<RenderInvoice>
{
    public async Task Run(JobContext<RenderInvoice> context)
    {
        if (context.Job.FailFirstAttempt && context.RetryAttempt == 0)
            throw new InvalidOperationException("The template service is warming up");

        await Task.Delay(context.Job.Duration, context.CancellationToken);
    }
}


/// <summary>
/// MassTransit's job consumers end to end: the job saga state machines keep the job, attempt and job type, and time their
/// slot waits, retries and timeouts with the message scheduler.
/// </summary>
public abstract class JobContract<TBinding>
    where TBinding : ITransportBinding, new()
{
    protected TBinding Binding { get; } = new();

    /// <summary>Registers the container's message scheduler; the harness's default (MassTransit's delayed scheduler) unless overridden.</summary>
    protected virtual void AddScheduler(IBusRegistrationConfigurator registration)
    {
    }

    /// <summary>Configures the bus's message scheduler; MassTransit's delayed message scheduler unless overridden.</summary>
    protected virtual void UseScheduler(IBusFactoryConfigurator bus)
    {
        bus.UseDelayedMessageScheduler();
    }

    [Fact]
    public async Task A_submitted_job_runs_to_completion()
    {
        await using var service = await StartJobService(concurrentJobLimit: 2);
        var harness = service.Harness;

        var jobId = NewId.NextGuid();
        var response = await harness.GetRequestClient<SubmitJob<RenderInvoice>>()
            .GetResponse<JobSubmissionAccepted>(new { JobId = jobId, Job = new RenderInvoice(Guid.NewGuid(), TimeSpan.FromMilliseconds(100), false) });

        Assert.Equal(jobId, response.Message.JobId);
        Assert.True(await harness.Published.Any<JobStarted>(x => x.Context.Message.JobId == jobId));
        Assert.True(await harness.Published.Any<JobCompleted>(x => x.Context.Message.JobId == jobId));
        Assert.True(await harness.Published.Any<JobCompleted<RenderInvoice>>(x => x.Context.Message.JobId == jobId));
    }

    [Fact]
    public async Task A_job_that_fails_its_first_attempt_is_retried_after_a_delay_and_completes()
    {
        await using var service = await StartJobService(concurrentJobLimit: 2);
        var harness = service.Harness;

        var jobId = NewId.NextGuid();
        await harness.GetRequestClient<SubmitJob<RenderInvoice>>()
            .GetResponse<JobSubmissionAccepted>(new { JobId = jobId, Job = new RenderInvoice(Guid.NewGuid(), TimeSpan.FromMilliseconds(50), true) });

        Assert.True(await harness.Published.Any<JobAttemptFaulted>(x => x.Context.Message.JobId == jobId));
        Assert.True(await harness.Published.Any<JobCompleted>(x => x.Context.Message.JobId == jobId));
        Assert.False(await harness.Published.Any<JobFaulted>(x => x.Context.Message.JobId == jobId));
    }

    [Fact]
    public async Task A_running_job_can_be_cancelled()
    {
        await using var service = await StartJobService(concurrentJobLimit: 2);
        var harness = service.Harness;

        var jobId = NewId.NextGuid();
        await harness.GetRequestClient<SubmitJob<RenderInvoice>>()
            .GetResponse<JobSubmissionAccepted>(new { JobId = jobId, Job = new RenderInvoice(Guid.NewGuid(), TimeSpan.FromSeconds(30), false) });
        Assert.True(await harness.Published.Any<JobStarted>(x => x.Context.Message.JobId == jobId));

        await harness.Bus.CancelJob(jobId);

        Assert.True(await harness.Published.Any<JobCanceled>(x => x.Context.Message.JobId == jobId));
    }

    [Fact]
    public async Task A_job_waiting_for_a_slot_starts_when_the_slot_is_free()
    {
        await using var service = await StartJobService(concurrentJobLimit: 1);
        var harness = service.Harness;
        var client = harness.GetRequestClient<SubmitJob<RenderInvoice>>();

        var first = NewId.NextGuid();
        await client.GetResponse<JobSubmissionAccepted>(new { JobId = first, Job = new RenderInvoice(Guid.NewGuid(), TimeSpan.FromSeconds(2), false) });
        Assert.True(await harness.Published.Any<JobStarted>(x => x.Context.Message.JobId == first));

        var second = NewId.NextGuid();
        await client.GetResponse<JobSubmissionAccepted>(new { JobId = second, Job = new RenderInvoice(Guid.NewGuid(), TimeSpan.FromMilliseconds(50), false) });

        // The second job waits (a scheduled JobSlotWaitElapsed) until the first has finished, then runs. The lists are
        // looked at until the messages are there: the first job runs two seconds without a message, which the harness's
        // inactivity detection may take for the end of the test.
        Assert.True(await harness.Sent.Any<JobSlotWaitElapsed>(x => x.Context.Message.JobId == second));
        Assert.True(await Published<JobCompleted>(harness, x => x.JobId == first), "the first job completes");
        Assert.True(await Published<JobCompleted>(harness, x => x.JobId == second), "the second job completes");
    }

    static Task<bool> Published<T>(ITestHarness harness, Func<T, bool> match)
        where T : class
    {
        return Infrastructure.Eventually.True(() => Task.FromResult(harness.Published.Select<T>(x => match(x.Context.Message)).Any()),
            TimeSpan.FromSeconds(30));
    }

    async Task<JobService> StartJobService(int concurrentJobLimit)
    {
        var provider = await Binding.StartHarness(x =>
        {
            x.SetKebabCaseEndpointNameFormatter();

            // Set before the harness starts, so that a job running a few seconds without messages is not taken for the end.
            x.SetTestTimeouts(testInactivityTimeout: TimeSpan.FromSeconds(10));
            AddScheduler(x);

            x.AddConsumer<RenderInvoiceJobConsumer>(c => c.Options<JobOptions<RenderInvoice>>(o => o
                    .SetConcurrentJobLimit(concurrentJobLimit)
                    .SetRetry(r => r.Interval(2, TimeSpan.FromMilliseconds(200)))))
                .Endpoint(e => e.Name = "render-invoice");

            x.AddJobSagaStateMachines(o => o.SlotWaitTime = TimeSpan.FromMilliseconds(500));
            x.SetJobConsumerOptions(o => o.HeartbeatInterval = TimeSpan.FromSeconds(10));
        }, (_, cfg) => UseScheduler(cfg));

        var harness = provider.GetRequiredService<ITestHarness>();
        return new JobService(provider, harness);
    }


    /// <summary>
    /// Stops the bus before the container goes: the job sagas retry messages that fail for a disposed container with long
    /// intervals, which would hold up the stop.
    /// </summary>
    protected sealed record JobService(ServiceProvider Provider, ITestHarness Harness) :
        IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Harness.Stop();
            await Provider.DisposeAsync();
        }
    }
}


public class RedisJobs : JobContract<RedisBinding>;

public class InMemoryJobs : JobContract<InMemoryBinding>;
