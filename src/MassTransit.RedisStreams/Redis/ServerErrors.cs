namespace MassTransit.RedisStreams.Redis;

using StackExchange.Redis;


/// <summary>Makes the exception for an error a Lua script reports for one entry of a batch.</summary>
static class ServerErrors
{
    /// <summary>A <see cref="RedisServerException"/> with <paramref name="message"/>.</summary>
    /// <remarks>
    /// net8.0 builds against StackExchange.Redis 2.13 so that the package needs only the 8.0 Microsoft.Extensions packages
    /// there (docs/packages.md); 2.13 has no error kinds, and 3.x marks the message-only constructor obsolete.
    /// </remarks>
    public static RedisServerException Create(string message) =>
#if NET10_0_OR_GREATER
        new(RedisErrorKind.Unknown, CommandFlags.None, message);
#else
        new(message);
#endif
}
