namespace MassTransit.RedisStreams.Dashboard;

using System;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;


/// <summary>The frame of every page: head, navigation, the page's content; and the formats numbers and times are shown in.</summary>
static class Page
{
    public static IResult Result(DashboardRequest request, string heading, Markup content, int status = StatusCodes.Status200OK)
    {
        var html = new Html();
        var title = request.Options.Title;
        html.Add($"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{heading} · {title}</title>
            <link rel="stylesheet" href="{request.Link("assets/dashboard.css")}">
            <script src="{request.Link("assets/dashboard.js")}" defer></script>
            </head>
            <body>
            <header>
            <a class="brand" href="{request.Link("")}">{title}</a>
            <nav>
            <a href="{request.Link("")}">Streams</a>
            <a href="{request.Link("history")}">History</a>
            <a href="{request.Link("replay")}">Replay</a>
            <a href="{request.Link("rewind")}">Rewind</a>
            </nav>
            <span class="prefix">{PrefixText(request)}</span>
            <span class="mode {(request.CanChange ? "changes" : "read-only")}">{(request.CanChange ? "changes allowed" : "read-only")}</span>
            </header>
            <main>
            <h1>{heading}</h1>
            {content}
            </main>
            </body>
            </html>
            """);

        return new PageResult(html.ToString(), status);
    }

    static string PrefixText(DashboardRequest request) =>
        request.Data.Keys.Prefix.Length == 0 ? "no key prefix" : "key prefix " + request.Data.Keys.Prefix;

    public static IResult Error(DashboardRequest request, string heading, string message, int status = StatusCodes.Status400BadRequest) =>
        Result(request, heading, Html.Of($"<p class=\"error\">{message}</p>"), status);

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "";

    public static string Idle(TimeSpan idle) => idle.TotalSeconds < 60 ? $"{idle.TotalSeconds:F0}s"
        : idle.TotalMinutes < 60 ? $"{idle.TotalMinutes:F0}m"
        : idle.TotalHours < 48 ? $"{idle.TotalHours:F0}h"
        : $"{idle.TotalDays:F0}d";

    public static string Kind(RedisStreamsStreamKind kind) => kind.ToString().ToLowerInvariant();
}


/// <summary>A page as HTML, not cached, not framed, with no script or style from elsewhere.</summary>
sealed class PageResult :
    IResult
{
    readonly string _html;
    readonly int _status;

    public PageResult(string html, int status)
    {
        _html = html;
        _status = status;
    }

    public System.Threading.Tasks.Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);

        var response = httpContext.Response;
        response.StatusCode = _status;
        response.ContentType = "text/html; charset=utf-8";
        Secure(response);
        return response.WriteAsync(_html, Encoding.UTF8);
    }

    public static void Secure(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "same-origin";
        response.Headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    }
}
