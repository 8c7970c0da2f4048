namespace MassTransit.RedisStreams.History;

using System;
using System.Collections.Generic;


/// <summary>
/// The functions that turn events stored under an older contract into the current one, registered with
/// <c>cfg.UpgradeEvent&lt;TOld, TNew&gt;(...)</c>; the history and replays of <c>TNew</c> include the events of <c>TOld</c>.
/// </summary>
sealed class EventUpgrades
{
    readonly Dictionary<Type, List<EventUpgrade>> _byTarget = new();

    public void Add<TOld, TNew>(Func<TOld, TNew> upgrade)
        where TOld : class
        where TNew : class
    {
        ArgumentNullException.ThrowIfNull(upgrade);

        if (typeof(TOld) == typeof(TNew))
            throw new ArgumentException($"An upgrade needs two contracts; {typeof(TOld).Name} cannot upgrade to itself.", nameof(upgrade));

        if (!_byTarget.TryGetValue(typeof(TNew), out var upgrades))
            _byTarget.Add(typeof(TNew), upgrades = []);

        upgrades.Add(new EventUpgrade<TOld, TNew>(upgrade));
    }

    /// <summary>The upgrades that produce <typeparamref name="T" />, in the order they were registered.</summary>
    public IReadOnlyList<EventUpgrade> For<T>()
        where T : class
    {
        return _byTarget.TryGetValue(typeof(T), out var upgrades) ? upgrades : [];
    }
}


/// <summary>One registered upgrade from an older contract.</summary>
abstract class EventUpgrade
{
    /// <summary>The older contract.</summary>
    public abstract Type OldType { get; }

    /// <summary>The entity name of the older contract, whose event stream holds its events.</summary>
    public abstract string GetOldEntityName(IMessageTopology topology);

    /// <summary>
    /// Reads the entry as the older contract (see <see cref="EntryMessage.TryRead{T}" /> for <paramref name="declaredOnly" />)
    /// and upgrades it; false when it does not read as that either.
    /// </summary>
    public abstract bool TryUpgrade(EntryMessage entry, bool declaredOnly, out object? upgraded);
}


sealed class EventUpgrade<TOld, TNew> :
    EventUpgrade
    where TOld : class
    where TNew : class
{
    readonly Func<TOld, TNew> _upgrade;

    public EventUpgrade(Func<TOld, TNew> upgrade)
    {
        _upgrade = upgrade;
    }

    public override Type OldType => typeof(TOld);

    public override string GetOldEntityName(IMessageTopology topology) => topology.GetMessageTopology<TOld>().EntityName;

    public override bool TryUpgrade(EntryMessage entry, bool declaredOnly, out object? upgraded)
    {
        if (entry.TryRead<TOld>(declaredOnly, out var old, out _))
        {
            upgraded = _upgrade(old);
            return upgraded != null;
        }

        upgraded = null;
        return false;
    }
}
