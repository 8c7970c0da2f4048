namespace MassTransit.RedisStreams.Dashboard.Pages;

using System;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;


/// <summary>Replays a message type's events in a window to one endpoint: a form, a confirmation with the count, then the replay.</summary>
static class ReplayPage
{
    /// <summary>How many events the confirmation counts at most before it says "at least".</summary>
    const int CountLimit = 10_000;

    public static Task<IResult> Show(DashboardRequest request) => Task.FromResult(Form(request, request.Query("type"), null, null, null, null));

    static IResult Form(DashboardRequest request, string? type, string? endpoint, string? from, string? to, string? count)
    {
        var html = new Html();
        html.Add($"<p class=\"note\">Delivers past events of a message type again to one receive endpoint, marked as replays, through its normal consume pipeline. Nothing is appended to the event stream.</p>");
        if (!request.CanChange)
        {
            html.Add($"<p class=\"read-only\">Read-only: replaying needs the policy in RedisStreamsDashboardOptions.ChangesPolicy.</p>");
            return Page.Result(request, "Replay", html.ToMarkup());
        }

        html.Add($"""
            <form id="replay" method="post" action="{request.Link("replay")}" class="stacked">
            {request.AntiforgeryField()}
            <label>Message type <input type="text" name="type" value="{type}" required placeholder="entity name, e.g. AuctionEnded"></label>
            <label>To endpoint <input type="text" name="endpoint" value="{endpoint}" required placeholder="receive endpoint name"></label>
            <label>From <input type="text" name="from" value="{from}" placeholder="the beginning; UTC time, entry ID or 2h"></label>
            <label>To <input type="text" name="to" value="{to}" placeholder="the newest now; UTC time, entry ID or 10m"></label>
            <label>At most <input type="number" name="count" min="1" value="{count}" placeholder="all"></label>
            <button type="submit">Replay…</button>
            </form>
            """);

        return Page.Result(request, "Replay", html.ToMarkup());
    }

    public static async Task<IResult> Post(DashboardRequest request)
    {
        if (await request.RefuseChange().ConfigureAwait(false) is { } refused)
            return refused;

        var form = await request.Http.Request.ReadFormAsync().ConfigureAwait(false);
        var type = DashboardRequest.Form(form, "type");
        var endpoint = DashboardRequest.Form(form, "endpoint");
        var fromText = DashboardRequest.Form(form, "from");
        var toText = DashboardRequest.Form(form, "to");
        var countText = DashboardRequest.Form(form, "count");
        if (type == null || endpoint == null)
            return Page.Error(request, "Replay", "Name the message type and the endpoint to replay to.");

        var from = Positions.Parse(fromText, "From");
        var to = Positions.Parse(toText, "To");
        long? count = countText == null ? null
            : long.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 ? n
            : throw new ArgumentException($"At most: '{countText}' is not a number of at least 1.");

        var history = request.Data.History;
        if (!DashboardRequest.Confirmed(form))
        {
            long found = 0;
            await foreach (var _ in history.ReadStored(type, from, to, newestFirst: false, request.Http.RequestAborted).ConfigureAwait(false))
            {
                if (++found == CountLimit)
                    break;
            }

            var events = count is { } most ? Math.Min(most, found) : found;
            var html = new Html();
            html.Add($"""
                <p>Replay <strong id="count">{(found == CountLimit && count is null or > CountLimit ? "at least " : "")}{Page.Count(events)}</strong> events of <strong>{type}</strong>
                ({(fromText ?? "the beginning")} to {(toText ?? "the newest now")}) to the endpoint <strong>{endpoint}</strong>?</p>
                <form id="confirm" method="post" action="{request.Link("replay")}">
                {request.AntiforgeryField()}
                <input type="hidden" name="confirmed" value="yes">
                <input type="hidden" name="type" value="{type}">
                <input type="hidden" name="endpoint" value="{endpoint}">
                <input type="hidden" name="from" value="{fromText}">
                <input type="hidden" name="to" value="{toText}">
                <input type="hidden" name="count" value="{countText}">
                <button type="submit" class="primary">Replay</button>
                <a class="cancel" href="{request.Link("replay", ("type", type))}">Cancel</a>
                </form>
                """);

            return Page.Result(request, "Replay events?", html.ToMarkup());
        }

        var replayed = await history.ReplayStored(type, endpoint, from, to, count, null, request.Http.RequestAborted).ConfigureAwait(false);
        return Page.Result(request, "Replayed", Html.Of($"""
            <p id="result">Replayed {replayed} {type} events to {endpoint}.</p>
            <p><a href="{request.Link("stream", ("name", "queue:" + endpoint))}">See queue:{endpoint}</a></p>
            """));
    }
}
