namespace MassTransit.RedisStreams.Dashboard.Pages;

using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;


/// <summary>Every stream of the bus with its kind, length, groups, lag, pending and last entry; the table refreshes itself.</summary>
static class OverviewPage
{
    public static async Task<IResult> Show(DashboardRequest request)
    {
        var streams = await request.Data.Inspector.Overview().ConfigureAwait(false);
        var milliseconds = (long)request.Options.RefreshInterval.TotalMilliseconds;

        var html = new Html();
        html.Add($"""
            <table id="streams" class="streams" data-refresh-url="{request.Link("overview/rows")}" data-refresh-ms="{milliseconds}">
            <thead><tr><th>Kind</th><th>Name</th><th class="n">Length</th><th class="n">Groups</th><th class="n">Pending</th><th class="n">Lag</th><th>Last entry (UTC)</th><th class="n">Scheduled</th><th></th></tr></thead>
            <tbody>{Rows(request, streams)}</tbody>
            </table>
            <p class="note">Refreshed every {request.Options.RefreshInterval.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s. <span id="refreshed"></span></p>
            """);

        return Page.Result(request, "Streams", html.ToMarkup());
    }

    /// <summary>The table's rows alone, which the page's script fetches at the refresh interval.</summary>
    public static async Task<IResult> Rows(DashboardRequest request)
    {
        var streams = await request.Data.Inspector.Overview().ConfigureAwait(false);
        return new PageResult(Rows(request, streams).Value, StatusCodes.Status200OK);
    }

    static Markup Rows(DashboardRequest request, IReadOnlyList<RedisStreamsStreamInfo> streams)
    {
        var html = new Html();
        if (streams.Count == 0)
            html.Add($"<tr><td colspan=\"9\" class=\"empty\">No streams under this key prefix yet.</td></tr>");

        foreach (var stream in streams)
        {
            var display = Display(stream);
            var failed = stream.Kind is RedisStreamsStreamKind.Error or RedisStreamsStreamKind.Skipped && stream.Length > 0;
            var lag = stream.Groups.Count == 0 ? ""
                : stream.Groups.Any(x => x.Lag == null) ? "?"
                : Page.Count(stream.Groups.Max(x => x.Lag!.Value));
            var lagging = stream.Groups.Any(x => x.Lag is > 0);
            var extra = stream.Kind is RedisStreamsStreamKind.Events or RedisStreamsStreamKind.Faults
                ? Html.Of($"<a href=\"{request.Link("history", ("type", stream.Name))}\">history</a>")
                : new Markup("");

            html.Add($"""
                <tr class="{Page.Kind(stream.Kind)}{(failed ? " failed" : "")}" data-stream="{display}">
                <td>{Page.Kind(stream.Kind)}</td>
                <td><a href="{request.Link("stream", ("name", display))}">{stream.Name}</a>{Partitions(stream)}</td>
                <td class="n length">{Page.Count(stream.Length)}</td>
                <td class="n">{stream.Groups.Count}</td>
                <td class="n">{Page.Count(stream.Groups.Sum(x => x.Pending))}</td>
                <td class="n{(lagging ? " lagging" : "")}">{lag}</td>
                <td>{Page.Time(stream.LastEntryTime)}</td>
                <td class="n">{(stream.ScheduledCount == 0 ? "" : Page.Count(stream.ScheduledCount))}</td>
                <td>{extra}</td>
                </tr>
                """);
        }

        return html.ToMarkup();
    }

    /// <summary>A partitioned type's partitions, after its name: they are listed on its page, not as types of their own.</summary>
    static Markup Partitions(RedisStreamsStreamInfo stream) =>
        stream.Partitions.Count == 0 ? new Markup("") : Html.Of($" <span class=\"muted partitions\">{Operations.ConsumerGroups.PartitionsLabel(stream)}</span>");

    /// <summary>The stream's name as the CLI and the stream page take it: <c>events:X</c>, <c>queue:x_error</c>.</summary>
    public static string Display(RedisStreamsStreamInfo stream) =>
        (stream.Kind is RedisStreamsStreamKind.Events or RedisStreamsStreamKind.Faults ? "events:" : "queue:") + stream.Name;
}
