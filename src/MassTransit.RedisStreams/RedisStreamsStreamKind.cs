namespace MassTransit;

/// <summary>What a stream is for.</summary>
public enum RedisStreamsStreamKind
{
    /// <summary><c>events:&lt;entity&gt;</c>: every publish of a message type.</summary>
    Events = 0,

    /// <summary><c>events:MassTransit:Fault--...</c>: the <c>Fault&lt;T&gt;</c> events published when consumers fail.</summary>
    Faults = 1,

    /// <summary><c>queue:&lt;name&gt;</c>: the messages sent to a receive endpoint.</summary>
    Queue = 2,

    /// <summary>A receive endpoint's error stream, <c>queue:&lt;name&gt;_error</c> by default.</summary>
    Error = 3,

    /// <summary>A receive endpoint's skipped stream, <c>queue:&lt;name&gt;_skipped</c> by default.</summary>
    Skipped = 4
}
