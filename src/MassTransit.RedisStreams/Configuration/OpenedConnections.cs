namespace MassTransit.RedisStreams.Configuration;

using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Redis;


/// <summary>
/// The connections the buses of a service provider began to open when they were created, so that a bus built and never
/// started (a test that resolves <c>IBus</c> and stops there) does not leave its connection open when the provider is
/// disposed. A bus that starts and stops closes its connection itself; closing it again here does nothing.
/// </summary>
sealed class OpenedConnections :
    IAsyncDisposable
{
    readonly List<RedisConnection> _connections = [];

    public void Add(RedisConnection connection)
    {
        lock (_connections)
            _connections.Add(connection);
    }

    public async ValueTask DisposeAsync()
    {
        RedisConnection[] connections;
        lock (_connections)
        {
            connections = [.._connections];
            _connections.Clear();
        }

        foreach (var connection in connections)
            await connection.DisposeAsync().ConfigureAwait(false);
    }
}
