namespace MassTransit.RedisStreams.Dashboard.Pages;

using System.Linq;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Redis;
using StackExchange.Redis;
using Transport;


/// <summary>The events of a message type (and of the types derived from it), newest first, between two times, with their bodies.</summary>
static class HistoryPage
{
    const int PageSize = 20;

    public static async Task<IResult> Show(DashboardRequest request)
    {
        var type = request.Query("type");
        var fromText = request.Query("from");
        var toText = request.Query("to");

        var html = new Html();
        var eventStreams = await request.Data.Redis.Admin.ScanAllStreams(request.Data.Keys.EventsPattern).ConfigureAwait(false);
        var names = eventStreams.Select(x => request.Data.Keys.EntityNameOf(x)).OfType<string>().Order(System.StringComparer.Ordinal).ToList();

        html.Add($"""
            <form id="filter" method="get" action="{request.Link("history")}" class="filter">
            <label>Message type <input type="text" name="type" value="{type}" list="types" required placeholder="entity name, e.g. AuctionEnded"></label>
            <label>From <input type="text" name="from" value="{fromText}" placeholder="UTC time, entry ID or 2h"></label>
            <label>To <input type="text" name="to" value="{toText}" placeholder="UTC time, entry ID or 10m"></label>
            <button type="submit">Show</button>
            </form>
            <datalist id="types">
            """);
        foreach (var name in names)
            html.Add($"<option value=\"{name}\">");
        html.Add($"</datalist>");

        if (type == null)
        {
            html.Add($"<p class=\"note\">Pick a message type: its events are read from its event stream and those of the types derived from it.</p>");
            return Page.Result(request, "History", html.ToMarkup());
        }

        var from = Positions.Parse(fromText, "From");
        var to = Positions.Parse(toText, "To");
        if (!await request.Data.Redis.Admin.Exists(request.Data.Keys.Events(type)).ConfigureAwait(false))
            return Page.Error(request, "History", $"There is no event stream events:{type}.", StatusCodes.Status404NotFound);

        html.Add($"<ol id=\"events\" class=\"events\">");
        var shown = 0;
        StreamEntryId? oldest = null;
        var more = false;
        await foreach (var (stream, entry) in request.Data.History.ReadStored(type, from, to, newestFirst: true, request.Http.RequestAborted)
            .ConfigureAwait(false))
        {
            if (shown == PageSize)
            {
                more = true;
                break;
            }

            var id = StreamEntryId.Parse(entry.Id);
            var (_, body) = EntryValidator.GetBody(entry);
            var streamName = request.Data.Operations.Resolver.OfKey(stream)?.DisplayName ?? stream.ToString();
            html.Add($"""
                <li data-id="{id}"><div class="event-head"><code>{id}</code> <span class="muted">{Page.Time(id.Timestamp)}</span>
                <span class="type">{Types((string?)entry[MessageHeaders.MessageType])}</span> <span class="muted">in {streamName}</span>
                <code class="muted">{(string?)entry[MessageHeaders.MessageId]}</code></div>
                <pre class="json">{MessageBody.Format(body)}</pre></li>
                """);

            shown++;
            oldest = id;
        }

        html.Add($"</ol>");
        if (shown == 0)
            html.Add($"<p class=\"empty\">No events of {type} in this window.</p>");
        if (more && oldest is { } last)
            html.Add($"<p class=\"pager\"><a id=\"older\" href=\"{request.Link("history", ("type", type), ("from", fromText), ("to", last.Previous.ToString()))}\">Older events</a></p>");

        return Page.Result(request, "History of " + type, html.ToMarkup());
    }

    static string? Types(string? urns) => urns?.Split(';')[0] is { } first && first.StartsWith("urn:message:", System.StringComparison.Ordinal)
        ? first["urn:message:".Length..]
        : urns;
}
