namespace MassTransit.RedisStreams.Tests.Infrastructure;

using System;
using System.Linq;
using System.Threading.Tasks;
using StackExchange.Redis;


/// <summary>
/// What the consumer hosts recorded: how often each sequence number was handled. Lost = sent but never handled;
/// duplicated = handled more than once.
/// </summary>
public sealed class Proof
{
    readonly IDatabase _database;
    readonly RedisKey _processed;

    public Proof(IDatabase database, string prefix)
    {
        _database = database;
        _processed = prefix + ":proof:processed";
    }

    public async Task<Counts> Count(int sent)
    {
        var handled = (await _database.HashGetAllAsync(_processed)).ToDictionary(x => (int)x.Name, x => (int)x.Value);

        var lost = Enumerable.Range(0, sent).Count(x => !handled.ContainsKey(x));
        var duplicated = handled.Values.Sum(x => x - 1);

        return new Counts(sent, handled.Count, duplicated, lost);
    }

    /// <summary>Waits until every one of <paramref name="sent" /> sequence numbers was handled at least once.</summary>
    public Task<bool> AllHandled(int sent, TimeSpan timeout)
    {
        return Eventually.True(async () => (await _database.HashLengthAsync(_processed)) >= sent && (await Count(sent)).Lost == 0, timeout);
    }

    public async Task<long> HandledCount() => await _database.HashLengthAsync(_processed);


    public readonly record struct Counts(int Sent, int Processed, int Duplicated, int Lost)
    {
        public override string ToString() => $"sent {Sent}, processed {Processed}, duplicated {Duplicated}, lost {Lost}";
    }
}
