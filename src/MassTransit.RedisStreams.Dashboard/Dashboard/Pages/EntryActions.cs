namespace MassTransit.RedisStreams.Dashboard.Pages;

using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Operations;
using Redis;


/// <summary>
/// Moving and deleting selected entries of a stream. The first POST shows what would happen (the operations' plan, changing
/// nothing) with a form to confirm it; the confirmed POST does it.
/// </summary>
static class EntryActions
{
    public static async Task<IResult> Move(DashboardRequest request)
    {
        if (await request.RefuseChange().ConfigureAwait(false) is { } refused)
            return refused;

        var form = await request.Http.Request.ReadFormAsync().ConfigureAwait(false);
        if (await Selected(request, form).ConfigureAwait(false) is not var (stream, selection, ids))
            return Page.Error(request, "Move", "Select the entries to move.");

        var operations = request.Data.Operations;
        var to = DashboardRequest.Form(form, "to") is { } target ? await ResolveTarget(request, target).ConfigureAwait(false) : null;

        if (!DashboardRequest.Confirmed(form))
        {
            var plan = await operations.PlanMove(stream, selection, to).ConfigureAwait(false);
            var html = new Html();
            html.Add($"<p>Move {plan.Moves.Count} entries of <strong>{stream.DisplayName}</strong>:</p>");
            html.Add($"<table id=\"plan\"><thead><tr><th>Entry</th><th>To</th></tr></thead><tbody>");
            foreach (var move in plan.Moves)
                html.Add($"<tr><td><code>{move.Id}</code></td><td>{move.Target?.DisplayName ?? "nowhere known: it stays"}</td></tr>");
            html.Add($"</tbody></table>");
            if (!plan.Atomic)
                html.Add($"<p class=\"warning\">The streams are in different hash slots: each entry is appended first and deleted after, so a failure between the two leaves a copy in both.</p>");

            Confirm(html, request, "move", "Move " + plan.Moves.Count + " entries", stream, ids, ("to", to?.DisplayName));
            return Page.Result(request, "Move entries?", html.ToMarkup());
        }

        var result = await operations.Move(stream, selection, to).ConfigureAwait(false);
        var done = new Html();
        var targets = result.Moved.GroupBy(x => x.Target.DisplayName).Select(x => $"{x.Count()} to {x.Key}");
        done.Add($"<p id=\"result\">Moved {result.Moved.Count} entries from {stream.DisplayName}: {string.Join(", ", targets)}.</p>");
        if (result.Unroutable.Count > 0)
            done.Add($"<p class=\"warning\">{result.Unroutable.Count} entries have no known destination and stay: {string.Join(", ", result.Unroutable)}.</p>");
        if (result.Missing > 0)
            done.Add($"<p class=\"warning\">{result.Missing} entries were gone already.</p>");
        done.Add($"<p><a href=\"{request.Link("stream", ("name", stream.DisplayName))}\">Back to {stream.DisplayName}</a></p>");

        return Page.Result(request, "Moved", done.ToMarkup());
    }

    public static async Task<IResult> Delete(DashboardRequest request)
    {
        if (await request.RefuseChange().ConfigureAwait(false) is { } refused)
            return refused;

        var form = await request.Http.Request.ReadFormAsync().ConfigureAwait(false);
        if (await Selected(request, form).ConfigureAwait(false) is not var (stream, selection, ids))
            return Page.Error(request, "Delete", "Select the entries to delete.");

        var operations = request.Data.Operations;
        if (!DashboardRequest.Confirmed(form))
        {
            var planned = await operations.PlanDelete(stream, selection).ConfigureAwait(false);
            var html = new Html();
            html.Add($"<p>Delete {planned.Count} entries of <strong>{stream.DisplayName}</strong> for good:</p><ul id=\"plan\">");
            foreach (var id in planned)
                html.Add($"<li><code>{id}</code></li>");
            html.Add($"</ul>");

            Confirm(html, request, "delete", "Delete " + planned.Count + " entries", stream, ids);
            return Page.Result(request, "Delete entries?", html.ToMarkup());
        }

        var deleted = await operations.Delete(stream, selection).ConfigureAwait(false);
        var done = new Html();
        done.Add($"""
            <p id="result">Deleted {deleted} entries from {stream.DisplayName}.</p>
            <p><a href="{request.Link("stream", ("name", stream.DisplayName))}">Back to {stream.DisplayName}</a></p>
            """);

        return Page.Result(request, "Deleted", done.ToMarkup());
    }

    /// <summary>The stream and the entry IDs a form names; null when it names no entry.</summary>
    static async Task<(OperatedStream Stream, EntrySelection Selection, IReadOnlyList<string> Ids)?> Selected(DashboardRequest request, IFormCollection form)
    {
        var ids = form["id"].OfType<string>().Where(x => StreamEntryId.TryParse(x, out _)).Distinct().ToList();
        if (DashboardRequest.Form(form, "stream") is not { } name || ids.Count == 0)
            return null;

        var stream = await request.Data.Operations.Resolver.Resolve(name).ConfigureAwait(false);
        return (stream, new EntrySelection { Ids = ids.Select(x => StreamEntryId.Parse(x)).ToArray() }, ids);
    }

    static async Task<OperatedStream> ResolveTarget(DashboardRequest request, string target)
    {
        var stream = await request.Data.Operations.Resolver.Resolve(target, RedisStreamsStreamKind.Queue).ConfigureAwait(false);
        if (!await request.Data.Redis.Admin.Exists(stream.Key).ConfigureAwait(false))
            throw new System.ArgumentException($"there is no queue {stream.DisplayName} to move to.");

        return stream;
    }

    static void Confirm(Html html, DashboardRequest request, string action, string button, OperatedStream stream, IReadOnlyList<string> ids,
        params (string Name, string? Value)[] fields)
    {
        html.Add($"""
            <form id="confirm" method="post" action="{request.Link(action)}">
            {request.AntiforgeryField()}
            <input type="hidden" name="confirmed" value="yes">
            <input type="hidden" name="stream" value="{stream.DisplayName}">
            """);
        foreach (var id in ids)
            html.Add($"<input type=\"hidden\" name=\"id\" value=\"{id}\">");
        foreach (var (name, value) in fields.Where(x => x.Value != null))
            html.Add($"<input type=\"hidden\" name=\"{name}\" value=\"{value}\">");

        html.Add($"""
            <button type="submit" class="{(action == "delete" ? "danger" : "primary")}">{button}</button>
            <a class="cancel" href="{request.Link("stream", ("name", stream.DisplayName))}">Cancel</a>
            </form>
            """);
    }
}
