namespace MassTransit.RedisStreams.Dashboard.Pages;

using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Operations;
using Redis;
using StackExchange.Redis;


/// <summary>
/// One stream: its consumer groups and its entries, newest first, a page at a time. For an <c>_error</c> or <c>_skipped</c>
/// stream each entry shows why it is there and where it goes back to, and — when the user may change data — entries are
/// selected to be moved or deleted.
/// </summary>
static class StreamPage
{
    const int PageSize = 20;

    public static async Task<IResult> Show(DashboardRequest request)
    {
        if (request.Query("name") is not { } name)
            return Page.Error(request, "Stream", "Name a stream: stream?name=queue:orders_error.");

        var stream = await request.Data.Operations.Resolver.Resolve(name).ConfigureAwait(false);
        var info = await request.Data.Groups.DescribeType(stream).ConfigureAwait(false);
        if (!info.Exists)
            return Page.Error(request, stream.DisplayName, $"There is no stream {stream.DisplayName}.", StatusCodes.Status404NotFound);

        var before = request.Query("before") is { } text && StreamEntryId.TryParse(text, out var id) ? id : (StreamEntryId?)null;
        var found = await request.Data.Redis.Admin.Range(stream.Key, "-", before is { } last ? "(" + last : "+", PageSize + 1, newestFirst: true)
            .ConfigureAwait(false);
        var entries = found.Take(PageSize).Select(StoredEntry.Decode).ToList();

        var html = new Html();
        html.Add($"""
            <dl class="facts">
            <dt>Kind</dt><dd>{Page.Kind(stream.Kind)}</dd>
            <dt>Length</dt><dd id="length">{Page.Count(info.Length)}</dd>
            <dt>First entry</dt><dd>{info.FirstEntryId} {Page.Time(info.FirstEntryTime)}</dd>
            <dt>Last entry</dt><dd>{info.LastEntryId} {Page.Time(info.LastEntryTime)}</dd>
            <dt>Key</dt><dd><code>{info.StreamKey}</code></dd>
            </dl>
            """);

        Groups(html, info);
        Partitions(html, request, info);
        if (stream.Kind is RedisStreamsStreamKind.Error or RedisStreamsStreamKind.Skipped)
            FailedEntries(html, request, stream, entries);
        else
            Entries(html, entries);

        if (found.Length > PageSize)
            html.Add($"<p class=\"pager\"><a id=\"older\" href=\"{request.Link("stream", ("name", stream.DisplayName), ("before", entries[^1].Id.ToString()))}\">Older entries</a></p>");
        if (before != null)
            html.Add($"<p class=\"pager\"><a href=\"{request.Link("stream", ("name", stream.DisplayName))}\">Newest entries</a></p>");

        return Page.Result(request, stream.DisplayName, html.ToMarkup());
    }

    /// <summary>A partitioned type's partition streams, each linked to its own page; the type's totals above include them.</summary>
    static void Partitions(Html html, DashboardRequest request, RedisStreamsStreamInfo info)
    {
        if (info.Partitions.Count == 0)
            return;

        html.Add($"<h2>Partitions</h2><p class=\"note\">{ConsumerGroups.PartitionsLabel(info)}; the length, entries and groups above are the type's, over all of them. <a href=\"{request.Link("history", ("type", info.Name))}\">History</a> reads them merged by time.</p>");
        html.Add($"<table id=\"partitions\"><thead><tr><th>Partition</th><th>Stream</th><th class=\"n\">Length</th><th class=\"n\">Lag</th><th>Last entry (UTC)</th><th class=\"n\">Slot</th><th>Node</th></tr></thead><tbody>");
        foreach (var partition in info.Partitions)
        {
            var lags = partition.Groups.Select(x => x.Lag).ToList();
            var lag = lags.Count == 0 ? "" : lags.Any(x => x == null) ? "?" : Page.Count(lags.Sum(x => x!.Value));
            var display = "events:" + partition.Name;
            html.Add($"""
                <tr data-partition="{partition.Partition}-{partition.PartitionCount}"><td>{partition.Partition} of {partition.PartitionCount}</td>
                <td><a href="{request.Link("stream", ("name", display))}"><code>{partition.StreamKey}</code></a></td><td class="n">{Page.Count(partition.Length)}</td>
                <td class="n">{lag}</td><td>{Page.Time(partition.LastEntryTime)}</td><td class="n">{partition.HashSlot}</td><td>{partition.Node ?? ""}</td></tr>
                """);
        }

        html.Add($"</tbody></table>");
    }

    static void Groups(Html html, RedisStreamsStreamInfo info)
    {
        html.Add($"<h2>Consumer groups</h2>");
        if (info.Groups.Count == 0)
        {
            html.Add($"<p class=\"empty\">No consumer groups.</p>");
            return;
        }

        html.Add($"<table id=\"groups\"><thead><tr><th>Group</th><th class=\"n\">Pending</th><th class=\"n\">Lag</th><th>Last delivered</th><th>Consumers (pending, idle)</th></tr></thead><tbody>");
        foreach (var group in info.Groups)
        {
            var consumers = new Html();
            foreach (var consumer in group.Consumers)
                consumers.Add($"<li>{consumer.Name} <span class=\"muted\">({Page.Count(consumer.Pending)}, {Page.Idle(consumer.Idle)})</span></li>");

            html.Add($"""
                <tr data-group="{group.Name}"><td>{group.Name}</td><td class="n">{Page.Count(group.Pending)}</td>
                <td class="n{(group.Lag is > 0 ? " lagging" : "")}">{(group.Lag is { } lag ? Page.Count(lag) : "?")}</td>
                <td><code>{group.LastDeliveredId}</code></td><td><ul class="consumers">{consumers.ToMarkup()}</ul></td></tr>
                """);
        }

        html.Add($"</tbody></table>");
    }

    static void Entries(Html html, List<StoredEntry> entries)
    {
        html.Add($"<h2>Entries, newest first</h2>");
        if (entries.Count == 0)
        {
            html.Add($"<p class=\"empty\">No entries.</p>");
            return;
        }

        html.Add($"<table id=\"entries\"><thead><tr><th>ID</th><th>Time (UTC)</th><th>Message type</th><th>Message ID</th><th>Body</th></tr></thead><tbody>");
        foreach (var entry in entries)
        {
            html.Add($"""
                <tr data-id="{entry.Id}"><td><code>{entry.Id}</code></td><td>{Page.Time(entry.Time)}</td><td>{entry.MessageType}</td>
                <td><code>{entry.MessageId}</code></td><td>{Body(entry)}</td></tr>
                """);
        }

        html.Add($"</tbody></table>");
    }

    static void FailedEntries(Html html, DashboardRequest request, OperatedStream stream, List<StoredEntry> entries)
    {
        html.Add($"<h2>Failed messages, newest first</h2>");
        if (entries.Count == 0)
        {
            html.Add($"<p class=\"empty\">No entries.</p>");
            return;
        }

        if (request.CanChange)
        {
            html.Add($"""
                <form id="select" method="post" action="{request.Link("move")}">
                {request.AntiforgeryField()}
                <input type="hidden" name="stream" value="{stream.DisplayName}">
                """);
        }

        html.Add($"<table id=\"entries\" class=\"failed-entries\"><thead><tr>");
        if (request.CanChange)
            html.Add($"<th><input type=\"checkbox\" id=\"select-all\" title=\"Select all on this page\"></th>");
        html.Add($"<th>ID / time (UTC)</th><th>Message</th><th>Why</th><th>Goes back to</th></tr></thead><tbody>");

        foreach (var entry in entries)
        {
            var destination = request.Data.Operations.OriginalDestination(stream, entry);
            var source = entry.SourceStream is { } key ? request.Data.Operations.Resolver.OfKey(key)?.DisplayName ?? key : "";

            html.Add($"<tr data-id=\"{entry.Id}\">");
            if (request.CanChange)
                html.Add($"<td><input type=\"checkbox\" name=\"id\" value=\"{entry.Id}\" aria-label=\"Select {entry.Id}\"></td>");

            html.Add($"""
                <td><code>{entry.Id}</code><br><span class="muted">{Page.Time(entry.Time)}</span></td>
                <td><span class="type">{entry.MessageType}</span><br><code class="muted">{entry.MessageId}</code>{Body(entry)}</td>
                <td><span class="reason">{entry.Reason}</span> <span class="exception-type">{entry.ExceptionType}</span>
                <div class="fault-message">{entry.FaultMessage}</div>
                {StackTrace(entry)}
                <div class="muted">from <span class="source">{source}</span> {entry.SourceEntry}</div></td>
                <td class="destination">{destination?.DisplayName ?? "unknown"}</td>
                </tr>
                """);
        }

        html.Add($"</tbody></table>");

        if (request.CanChange)
        {
            html.Add($"""
                <fieldset class="actions">
                <label>Move to <input type="text" name="to" placeholder="each one's original destination"></label>
                <button type="submit" id="move">Move selected…</button>
                <button type="submit" id="delete" class="danger" formaction="{request.Link("delete")}">Delete selected…</button>
                </fieldset>
                </form>
                """);
        }
    }

    static Markup Body(StoredEntry entry) => entry.Body.IsNull
        ? new Markup("")
        : Html.Of($"<details class=\"body\"><summary>body</summary><pre>{MessageBody.Format(entry.Body)}</pre></details>");

    static Markup StackTrace(StoredEntry entry) => entry.StackTrace is { Length: > 0 } trace
        ? Html.Of($"<details class=\"stack\"><summary>stack trace</summary><pre>{trace}</pre></details>")
        : new Markup("");
}
