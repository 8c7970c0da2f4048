namespace MassTransit.RedisStreams.Cli;

/// <summary>What the tool's exit code means, for scripts.</summary>
static class ExitCodes
{
    public const int Done = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int Unreachable = 3;
    public const int NotFound = 4;
}
