namespace MassTransit.RedisStreams.TestHost;

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Retention;
using StackExchange.Redis;


/// <summary>
/// One archiving trim of an event stream, for the archive's fault tests: <c>--archive &lt;directory&gt;</c> archives what
/// <c>--keep &lt;n&gt;</c> entries of <c>events:&lt;--entity&gt;</c> removes, in segments of <c>--segment &lt;n&gt;</c> entries. With
/// <c>--stop-at &lt;step&gt;</c> (written, stored, recorded, trimmed) it prints <c>stopped-at &lt;step&gt;</c> when the first segment
/// reaches that step and waits there to be killed; otherwise it prints <c>archived &lt;n&gt; removed &lt;n&gt;</c> and exits.
/// </summary>
static class ArchivePass
{
    public static async Task<int> Run(Dictionary<string, string> options)
    {
        var stopAt = options.GetValueOrDefault("stop-at");
        if (stopAt != null)
        {
            ArchiveSteps.Reached = step =>
            {
                if (step != stopAt)
                    return;

                Console.WriteLine("stopped-at " + step);
                Console.Out.Flush();
                Thread.Sleep(Timeout.Infinite);
            };
        }

        using var multiplexer = await ConnectionMultiplexer.ConnectAsync(options["redis"]);
        var keep = long.Parse(options.GetValueOrDefault("keep", "0"), CultureInfo.InvariantCulture);
        var segment = int.Parse(options.GetValueOrDefault("segment", "100000"), CultureInfo.InvariantCulture);
        var entity = options.GetValueOrDefault("entity", "LotSold");

        var admin = new RedisStreamsAdmin(multiplexer, options["prefix"], retention: r =>
        {
            r.Events = RedisStreamsRetentionPolicy.KeepAll;
            r.EntityName(entity, RedisStreamsRetentionPolicy.Entries(keep));
            r.ArchiveToDirectory(options["archive"], a => a.SegmentEntries = segment);
        });

        var report = await admin.Trim();
        Console.WriteLine($"archived {report.Archived.GetValueOrDefault(options["prefix"] + ":events:" + entity)} removed {report.TotalRemoved}");
        return 0;
    }
}
