namespace MassTransit.RedisStreams.Dashboard.Pages;

using System.Linq;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;


/// <summary>Moves an endpoint's consumer groups in every event stream it reads to a time or entry: a form, a confirmation, the move.</summary>
static class RewindPage
{
    public static Task<IResult> Show(DashboardRequest request)
    {
        var html = new Html();
        html.Add($"<p class=\"note\">Moves a receive endpoint in every event stream it reads: back, so that it processes the events from that position on again, or forward, to skip a backlog. Safe while the endpoint runs. Its queue stream is not moved.</p>");
        if (!request.CanChange)
        {
            html.Add($"<p class=\"read-only\">Read-only: rewinding needs the policy in RedisStreamsDashboardOptions.ChangesPolicy.</p>");
            return Task.FromResult(Page.Result(request, "Rewind", html.ToMarkup()));
        }

        html.Add($"""
            <form id="rewind" method="post" action="{request.Link("rewind")}" class="stacked">
            {request.AntiforgeryField()}
            <label>Endpoint <input type="text" name="endpoint" value="{request.Query("endpoint")}" required placeholder="receive endpoint name"></label>
            <label>To <input type="text" name="to" required placeholder="the first event to deliver next: UTC time, entry ID or 2h"></label>
            <button type="submit">Rewind…</button>
            </form>
            """);

        return Task.FromResult(Page.Result(request, "Rewind", html.ToMarkup()));
    }

    public static async Task<IResult> Post(DashboardRequest request)
    {
        if (await request.RefuseChange().ConfigureAwait(false) is { } refused)
            return refused;

        var form = await request.Http.Request.ReadFormAsync().ConfigureAwait(false);
        var endpoint = DashboardRequest.Form(form, "endpoint");
        var toText = DashboardRequest.Form(form, "to");
        if (endpoint == null || Positions.Parse(toText, "To") is not { } to)
            return Page.Error(request, "Rewind", "Name the endpoint and the position to move it to.");

        if (!DashboardRequest.Confirmed(form))
        {
            var streams = (await request.Data.Inspector.Overview().ConfigureAwait(false))
                .Where(x => x.Kind is RedisStreamsStreamKind.Events or RedisStreamsStreamKind.Faults)
                .SelectMany(x => x.Groups.Where(g => g.Name == endpoint).Select(g => (Stream: x, Group: g)))
                .ToList();
            if (streams.Count == 0)
                return Page.Error(request, "Rewind", $"The endpoint '{endpoint}' reads no event stream under this key prefix: no stream has a consumer group of that name.");

            var html = new Html();
            html.Add($"<p>Move <strong>{endpoint}</strong> to <strong>{toText}</strong> in {streams.Count} event streams:</p>");
            html.Add($"<table id=\"plan\"><thead><tr><th>Stream</th><th>Now after</th><th class=\"n\">Pending</th><th class=\"n\">Lag</th></tr></thead><tbody>");
            foreach (var (stream, group) in streams)
                html.Add($"<tr><td>{OverviewPage.Display(stream)}</td><td><code>{group.LastDeliveredId}</code></td><td class=\"n\">{Page.Count(group.Pending)}</td><td class=\"n\">{(group.Lag is { } lag ? Page.Count(lag) : "?")}</td></tr>");
            html.Add($"""
                </tbody></table>
                <form id="confirm" method="post" action="{request.Link("rewind")}">
                {request.AntiforgeryField()}
                <input type="hidden" name="confirmed" value="yes">
                <input type="hidden" name="endpoint" value="{endpoint}">
                <input type="hidden" name="to" value="{toText}">
                <button type="submit" class="primary">Rewind</button>
                <a class="cancel" href="{request.Link("rewind")}">Cancel</a>
                </form>
                """);

            return Page.Result(request, "Rewind endpoint?", html.ToMarkup());
        }

        var moved = await request.Data.History.Rewind(endpoint, to, request.Http.RequestAborted).ConfigureAwait(false);
        var done = new Html();
        done.Add($"<p id=\"result\">Moved {endpoint} in {moved.Count} streams.</p><table id=\"moved\"><thead><tr><th>Stream</th><th>Now after</th></tr></thead><tbody>");
        foreach (var (stream, position) in moved)
            done.Add($"<tr><td>{request.Data.Operations.Resolver.OfKey(stream)?.DisplayName ?? stream}</td><td><code>{position}</code></td></tr>");
        done.Add($"</tbody></table>");

        return Page.Result(request, "Rewound", done.ToMarkup());
    }
}
