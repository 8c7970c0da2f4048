namespace MassTransit.RedisStreams.Redis;

using System;
using MassTransit.Topology;
using StackExchange.Redis;


/// <summary>
/// The one place where Redis key names are made. Every key the transport touches comes from here.
/// </summary>
/// <remarks>
/// Layout, with an optional prefix <c>p</c> (written <c>p:</c> in front of every key):
/// <list type="bullet">
/// <item><c>queue:{name}</c> — the stream of a receive endpoint; its error and skipped streams beside it, named by MassTransit's
/// error and dead-letter queue name formatters (<c>queue:{name}_error</c>, <c>queue:{name}_skipped</c> by default).</item>
/// <item><c>events:{entity}</c> — the stream every publish of a message type appends to.</item>
/// <item><c>{S}:wake</c> (<c>p:{S}:wake</c> under prefix <c>p</c>, as every key beside a stream) — a short-lived flag an idle reader of stream <c>S</c> sets; the next append clears it and publishes on
/// the channel of the same name.</item>
/// <item><c>{S}:sources</c> — for an event stream <c>S</c>, the set of event streams whose messages also are <c>S</c>'s type
/// (a derived type's stream), so that a consumer of a base type reads them too.</item>
/// <item><c>{S}:subscribers</c> — for an event stream <c>S</c>, a hash of the consumer groups that consume its type, and where each starts.</item>
/// <item><c>{consumers}:leases</c>, <c>{consumers}:holders</c> — the leases of the running instances on their consumer
/// names: name → expiry in Unix ms, and name → holder. With a prefix <c>p</c> they are <c>p:{p:consumers}:leases</c> and
/// <c>p:{p:consumers}:holders</c>: the lease scripts touch both, so they share a hash tag, and every key still starts with
/// <c>p:</c>.</item>
/// <item><c>{S}:delayed</c>, <c>{S}:delayed-entries</c> — the messages waiting to be appended to stream <c>S</c>: tokens by due
/// time, and their fields by token. <c>delayed-streams</c> lists the streams that have them, <c>scheduled-tokens</c> maps a
/// scheduling token to its stream, and the channel <c>delayed</c> announces new due times.</item>
/// <item><c>hosts</c> — a hash of host records (machine, process, versions, bus address) by ID: what is the same for every
/// entry of a process is stored here once, and each entry names its record in its <c>MT-Host</c> field. <c>{hosts}:held</c>
/// (<c>p:{p:hosts}:held</c>) beside it: record ID → until when, in Unix ms by the server's clock, entries may name it; the
/// braces put it in the slot of <c>hosts</c>, so that one script holds or removes a record in both.</item>
/// <item><c>retention-lease</c> — held by the one instance of the bus that trims the streams at a time.</item>
/// <item><c>{S}:sent:n</c> — the duplicate keys (MessageId and a hash of the fields that tell sends apart) of the entries
/// appended to <c>S</c> in duplicate detection window <c>n</c>; an entry whose key is in the set of its window or the one
/// before is not appended again.</item>
/// <item><c>entry-clock</c> — the last entry ID the transport gave out on this Redis: every append takes a higher one, so entry
/// IDs order appends across all streams.</item>
/// </list>
/// The keys beside a stream wrap the stream key in a hash tag, so that on Redis Cluster they hash to the stream's own slot
/// (a key without braces hashes whole; <c>{S}:x</c> hashes <c>S</c>). Names are validated to contain no braces. Under a prefix
/// <c>p</c> the prefix comes first (<c>p:{p:queue:x}:wake</c>), so that every key and channel of the prefix matches <c>p:*</c>
/// and an ACL user of a tenant needs <c>~p:*</c> and <c>&amp;p:*</c> only.
/// <para>
/// On a Redis Cluster every command and script touches keys of one slot: a stream with the keys beside it, including its own
/// clock (<see cref="ClockFor" />) in place of <c>entry-clock</c>; the two lease keys; <c>hosts</c> with <c>{hosts}:held</c>; or one key alone, as for
/// <c>delayed-streams</c>, <c>scheduled-tokens</c> and <c>retention-lease</c> (on one Redis, the removal of a stream from
/// <c>delayed-streams</c> also reads its delayed set, in one script). The wake channel of a stream is a sharded
/// channel there (<see cref="WakeChannel(RedisKey, bool)" />), on the node of the stream's slot; the channel
/// <c>delayed</c> stays an ordinary one, which the cluster delivers to every node.
/// </para>
/// </remarks>
sealed class StreamKeys
{
    public const string QueueSegment = "queue:";
    public const string EventSegment = "events:";

    readonly IDeadLetterQueueNameFormatter _deadLetterQueueNameFormatter;
    readonly IErrorQueueNameFormatter _errorQueueNameFormatter;
    readonly string _prefix;

    /// <param name="keyPrefix">The key prefix, with or without its trailing colon, or null.</param>
    /// <param name="errorQueueNameFormatter">Names an endpoint's error stream; MassTransit's default when null.</param>
    /// <param name="deadLetterQueueNameFormatter">Names an endpoint's skipped stream; MassTransit's default when null.</param>
    public StreamKeys(string? keyPrefix, IErrorQueueNameFormatter? errorQueueNameFormatter = null,
        IDeadLetterQueueNameFormatter? deadLetterQueueNameFormatter = null)
    {
        Prefix = NormalizePrefix(keyPrefix);
        _prefix = Prefix.Length == 0 ? "" : Prefix + ":";
        _errorQueueNameFormatter = errorQueueNameFormatter ?? DefaultErrorQueueNameFormatter.Instance;
        _deadLetterQueueNameFormatter = deadLetterQueueNameFormatter ?? DefaultDeadLetterQueueNameFormatter.Instance;

        Clock = (RedisKey)(_prefix + "entry-clock");
        RetentionLease = (RedisKey)(_prefix + "retention-lease");
        Hosts = (RedisKey)(_prefix + "hosts");
        HostHolds = Beside(Hosts, "held");
        DelayedStreams = (RedisKey)(_prefix + "delayed-streams");
        ScheduledTokens = (RedisKey)(_prefix + "scheduled-tokens");
        DelayedChannel = RedisChannel.Literal(_prefix + "delayed");

        var consumers = "{" + _prefix + "consumers}:";
        ConsumerLeases = (RedisKey)(_prefix + consumers + "leases");
        ConsumerHolders = (RedisKey)(_prefix + consumers + "holders");
    }

    /// <summary>The set of streams that have, or had, delayed messages: where the bus looks for them when it starts.</summary>
    public RedisKey DelayedStreams { get; }

    /// <summary>A hash from scheduling token to the stream its message waits for, to cancel by token alone.</summary>
    public RedisKey ScheduledTokens { get; }

    /// <summary>The channel on which a new earliest due time of a stream is announced: <c>&lt;due ms&gt; &lt;stream&gt;</c>.</summary>
    public RedisChannel DelayedChannel { get; }

    /// <summary>The delayed messages of stream <paramref name="stream" />: a sorted set of tokens by due time in Unix ms.</summary>
    public RedisKey Delayed(RedisKey stream) => Beside(stream, "delayed");

    /// <summary>The fields of the delayed messages of stream <paramref name="stream" />, by token.</summary>
    public RedisKey DelayedEntries(RedisKey stream) => Beside(stream, "delayed-entries");

    /// <summary>The lease of the one instance that trims the streams at a time.</summary>
    public RedisKey RetentionLease { get; }

    /// <summary>The host records of the processes that wrote entries, by the ID their entries name in <c>MT-Host</c>.</summary>
    public RedisKey Hosts { get; }

    /// <summary>
    /// Until when each host record may be named by a new entry: a sorted set of record ID → Unix ms by the server's clock, in
    /// the hash slot of <see cref="Hosts" />. Retention removes a record once its time is older than every entry and every
    /// delayed message of the bus.
    /// </summary>
    public RedisKey HostHolds { get; }

    /// <summary>The prefix without its trailing colon, or empty.</summary>
    public string Prefix { get; }

    /// <summary>The last entry ID given out by the append script, as <c>ms-seq</c>.</summary>
    public RedisKey Clock { get; }

    public RedisKey Queue(string queueName) => (RedisKey)(_prefix + QueueSegment + queueName);

    /// <summary>The name of the stream beside <paramref name="queueName" /> where failed messages go.</summary>
    public string ErrorQueueName(string queueName) => _errorQueueNameFormatter.FormatErrorQueueName(queueName);

    /// <summary>The name of the stream beside <paramref name="queueName" /> where messages no consumer wanted go.</summary>
    public string SkippedQueueName(string queueName) => _deadLetterQueueNameFormatter.FormatDeadLetterQueueName(queueName);

    /// <summary>
    /// The endpoint whose error stream is named <paramref name="queueName" />, or null when it is not an error stream's name: the
    /// formatter is applied to a marker to learn what it puts before and after the endpoint's name.
    /// </summary>
    public string? EndpointOfError(string queueName) => Unformat(queueName, ErrorQueueName);

    /// <summary>The endpoint whose skipped stream is named <paramref name="queueName" />, or null.</summary>
    public string? EndpointOfSkipped(string queueName) => Unformat(queueName, SkippedQueueName);

    static string? Unformat(string name, Func<string, string> format)
    {
        const string marker = "\u0001";
        var formatted = format(marker);
        var at = formatted.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0 || formatted.Length == marker.Length)
            return null;

        var before = formatted[..at];
        var after = formatted[(at + marker.Length)..];
        if (name.Length <= before.Length + after.Length || !name.StartsWith(before, StringComparison.Ordinal) || !name.EndsWith(after, StringComparison.Ordinal))
            return null;

        return name[before.Length..^after.Length];
    }

    public RedisKey Events(string entityName) => (RedisKey)(_prefix + EventSegment + entityName);

    /// <summary>A SCAN pattern for every event stream under this prefix.</summary>
    public string EventsPattern => EscapePattern(_prefix + EventSegment) + "*";

    /// <summary>A SCAN pattern for every queue stream (and error and skipped stream) under this prefix.</summary>
    public string QueuesPattern => EscapePattern(_prefix + QueueSegment) + "*";

    /// <summary>The entity name of an event stream key, or null when the key is not one under this prefix.</summary>
    public string? EntityNameOf(RedisKey key) => NameAfter(key, _prefix + EventSegment);

    /// <summary>The queue name of a queue stream key, or null when the key is not one under this prefix.</summary>
    public string? QueueNameOf(RedisKey key) => NameAfter(key, _prefix + QueueSegment);

    static string? NameAfter(RedisKey key, string start)
    {
        var text = key.ToString();
        return text.StartsWith(start, StringComparison.Ordinal) && text.Length > start.Length ? text[start.Length..] : null;
    }

    static string EscapePattern(string text)
    {
        var builder = new System.Text.StringBuilder(text.Length + 4);
        foreach (var c in text)
        {
            if (c is '*' or '?' or '[' or ']' or '\\')
                builder.Append('\\');
            builder.Append(c);
        }

        return builder.ToString();
    }

    /// <summary>The consumer name leases: a sorted set of consumer name → lease expiry in Unix ms (the server's clock).</summary>
    public RedisKey ConsumerLeases { get; }

    /// <summary>Who holds each consumer name: a hash of consumer name → the holding instance's random ID.</summary>
    public RedisKey ConsumerHolders { get; }

    /// <summary>
    /// The clock an append to <paramref name="stream" /> takes its entry ID from: on one Redis, the clock every stream shares, so
    /// that entry IDs order appends across streams; on a Redis Cluster, where a command's keys must share a hash slot, the
    /// stream's own, so order holds per stream there.
    /// </summary>
    public RedisKey ClockFor(RedisKey stream, bool cluster) => cluster ? Beside(stream, "clock") : Clock;

    public RedisKey Wake(RedisKey stream) => Beside(stream, "wake");

    /// <summary>
    /// The duplicate keys of the entries appended to <paramref name="stream" /> in duplicate detection window number
    /// <paramref name="window" /> (Unix ms ÷ the window's length): a set that expires two windows after its last addition.
    /// </summary>
    public RedisKey Sent(RedisKey stream, long window) => Beside(stream, "sent:" + window.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public RedisChannel WakeChannel(RedisKey stream) => RedisChannel.Literal(Wake(stream).ToString());

    public RedisKey Sources(RedisKey eventStream) => Beside(eventStream, "sources");

    public RedisKey Subscribers(RedisKey eventStream) => Beside(eventStream, "subscribers");

    /// <summary>The ID of the newest entry of <paramref name="stream" /> that is in its archive: older ones are read from there.</summary>
    public RedisKey Archived(RedisKey stream) => Beside(stream, "archived");

    /// <summary>
    /// The key <paramref name="suffix" /> beside <paramref name="stream" />: <c>p:{S}:suffix</c> under prefix <c>p</c>, <c>{S}:suffix</c>
    /// without one. The braces make <c>S</c> the hash tag, so the key lives in the stream's slot; the prefix in front makes every
    /// key of a prefix match <c>p:*</c>.
    /// </summary>
    RedisKey Beside(RedisKey stream, string suffix) => _prefix + "{" + stream.ToString() + "}:" + suffix;

    /// <summary>
    /// The name a key beside a stream had before it started with the prefix (<c>{p:queue:x}:wake</c>), for the migration of
    /// data written then; null when <paramref name="key" /> is not such a key of this prefix, or there is no prefix.
    /// </summary>
    public RedisKey? CurrentNameOfLegacyKey(RedisKey key)
    {
        if (_prefix.Length == 0)
            return null;

        var text = key.ToString();
        return text.StartsWith("{" + _prefix, StringComparison.Ordinal) && text.IndexOf("}:", StringComparison.Ordinal) > 0
            ? new RedisKey(_prefix + text)
            : (RedisKey?)null;
    }

    /// <summary>A SCAN pattern for the keys beside this prefix's streams as they were named before they started with the prefix.</summary>
    public string? LegacyBesidePattern => _prefix.Length == 0 ? null : "{" + EscapePattern(_prefix) + "*";

    /// <summary>
    /// Accepts "tenant", "tenant:" or null; returns "tenant" or "".
    /// </summary>
    public static string NormalizePrefix(string? keyPrefix)
    {
        if (string.IsNullOrEmpty(keyPrefix))
            return "";

        var prefix = keyPrefix.TrimEnd(':');
        if (prefix.Length == 0)
            return "";

        var problem = DescribeInvalidName(prefix, allowColon: true);
        if (problem != null)
            throw new ArgumentException($"The key prefix '{keyPrefix}' {problem}", nameof(keyPrefix));

        return prefix;
    }

    /// <summary>
    /// Returns why a queue, entity or prefix name cannot be used in a key, or null when it can.
    /// </summary>
    public static string? DescribeInvalidName(string? name, bool allowColon = true)
    {
        if (string.IsNullOrWhiteSpace(name))
            return "is empty.";

        foreach (var c in name)
        {
            if (c is '{' or '}')
                return "contains a brace; braces are reserved for Redis Cluster hash tags.";
            if (char.IsWhiteSpace(c) || char.IsControl(c))
                return "contains whitespace or a control character.";
            if (c is '/' or '?' or '#')
                return $"contains '{c}', which cannot be part of an endpoint address.";
            if (c == ':' && !allowColon)
                return "contains ':'.";
        }

        return null;
    }

    /// <summary>
    /// The wake channel of <paramref name="stream" /> as the connection needs it: on one Redis, <see cref="WakeChannel(RedisKey)" />;
    /// on a Redis Cluster, the sharded channel of the same name (SSUBSCRIBE/SPUBLISH), which lives on the node that serves the
    /// stream's slot, so that a wake-up does not travel to every node of the cluster.
    /// </summary>
    public RedisChannel WakeChannel(RedisKey stream, bool cluster) =>
        cluster ? RedisChannel.Sharded(WakeChannel(stream).ToString()) : WakeChannel(stream);
}
