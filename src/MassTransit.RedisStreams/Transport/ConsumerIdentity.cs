namespace MassTransit.RedisStreams.Transport;

using System;
using System.Threading.Tasks;
using Redis;
using StackExchange.Redis;


/// <summary>
/// The consumer name of one bus instance, leased in Redis so that no two live instances read under the same name.
/// </summary>
/// <remarks>
/// The instance takes the first free name of <c>{base}</c>, <c>{base}-1</c>, <c>{base}-2</c>, ... by setting the lease key
/// <c>consumers:{name}</c> if it does not exist, and renews the lease while it runs. A stopping instance gives its lease up;
/// a crashed one's runs out after <see cref="LeaseTime" />. An instance that restarts after that gets its old name back, and
/// with it its own pending entries, which it reads at once; one that restarts sooner takes the next name, and its old entries
/// are claimed after the claim timeout like those of any crashed instance.
/// </remarks>
sealed class ConsumerIdentity
{
    public static readonly TimeSpan LeaseTime = TimeSpan.FromSeconds(30);
    static readonly TimeSpan RenewInterval = TimeSpan.FromSeconds(10);
    const int MaxSlots = 1000;

    readonly string _baseName;
    readonly RedisStreamsClient _client;
    readonly object _lock = new();
    Task<Lease>? _acquiring;

    public ConsumerIdentity(RedisStreamsClient client, string? configuredName)
    {
        _client = client;
        _baseName = string.IsNullOrWhiteSpace(configuredName) ? Environment.MachineName : configuredName;
    }

    /// <summary>The current name; valid once <see cref="Acquire" /> has completed.</summary>
    public string Name => CurrentName ?? throw new InvalidOperationException("The consumer name has not been acquired yet.");

    /// <summary>The current name, or null before it is acquired.</summary>
    public string? CurrentName => _acquiring is { IsCompletedSuccessfully: true } acquiring ? acquiring.Result.Name : null;

    /// <summary>Leases a name, unless this instance holds one already; a failed attempt is made again by the next call.</summary>
    public async Task<string> Acquire()
    {
        Task<Lease> acquiring;
        lock (_lock)
        {
            if (_acquiring == null || _acquiring.IsFaulted || _acquiring.IsCanceled)
                _acquiring = Take();

            acquiring = _acquiring;
        }

        return (await acquiring.ConfigureAwait(false)).Name;
    }

    /// <summary>Gives the lease up, so a restart of this instance gets its name back at once.</summary>
    public async Task Release()
    {
        Task<Lease>? acquiring;
        lock (_lock)
        {
            acquiring = _acquiring;
            _acquiring = null;
        }

        if (acquiring is not { IsCompletedSuccessfully: true })
            return;

        var lease = acquiring.Result;
        lease.Released = true;

        try
        {
            await _client.ReleaseLease(_client.Keys.ConsumerLease(lease.Name), lease.Holder).ConfigureAwait(false);
        }
        catch (Exception exception) when (TransientFailures.IsRedisFailure(exception))
        {
            LogContext.Debug?.Log(exception, "Releasing the consumer name lease failed; it expires by itself");
        }
    }

    async Task<Lease> Take()
    {
        var lease = new Lease(Guid.NewGuid().ToString("N"));
        lease.Name = await TakeFreeName(lease.Holder).ConfigureAwait(false);

        _ = Renew(lease);

        return lease;
    }

    async Task<string> TakeFreeName(string holder)
    {
        for (var slot = 0; slot < MaxSlots; slot++)
        {
            var name = slot == 0 ? _baseName : $"{_baseName}-{slot}";
            if (await _client.AcquireLease(_client.Keys.ConsumerLease(name), holder, LeaseTime).ConfigureAwait(false))
            {
                LogContext.Debug?.Log("Consumer name leased: {ConsumerName}", name);
                return name;
            }
        }

        throw new InvalidOperationException(
            $"All {MaxSlots} consumer names of '{_baseName}' are leased by running instances; set RedisStreams:ConsumerName to a name of its own.");
    }

    async Task Renew(Lease lease)
    {
        while (!lease.Released)
        {
            await Task.Delay(RenewInterval).ConfigureAwait(false);
            if (lease.Released)
                return;

            try
            {
                var key = _client.Keys.ConsumerLease(lease.Name);
                if (await _client.RenewLease(key, lease.Holder, LeaseTime).ConfigureAwait(false))
                    continue;

                // The lease ran out while Redis could not be reached, or Redis lost it with its data. Take it again if it is
                // free; otherwise another instance holds the name now, and this one moves to a free name.
                if (!await _client.AcquireLease(key, lease.Holder, LeaseTime).ConfigureAwait(false))
                {
                    var previous = lease.Name;
                    lease.Name = await TakeFreeName(lease.Holder).ConfigureAwait(false);
                    LogContext.Warning?.Log("The consumer name {ConsumerName} was taken by another instance; continuing as {NewConsumerName}", previous,
                        lease.Name);
                }
            }
            catch (Exception exception) when (TransientFailures.IsRedisFailure(exception) || exception is InvalidOperationException)
            {
                // InvalidOperationException: every name was leased by running instances; the next renewal looks again.
                LogContext.Debug?.Log(exception, "Renewing the consumer name lease failed; retrying");
            }
        }
    }


    sealed class Lease
    {
        public Lease(string holder)
        {
            Holder = holder;
        }

        /// <summary>Identifies this instance as the lease's holder.</summary>
        public string Holder { get; }

        public string Name { get; set; } = "";

        public volatile bool Released;
    }
}
