namespace MassTransit.RedisStreams.Dashboard;

using System;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Pages;
using StackExchange.Redis;


/// <summary>The dashboard's routes under its group, and the one place where a failure becomes a page instead of a 500.</summary>
static class DashboardRoutes
{
    /// <param name="group">The group mapped at <paramref name="pattern" />.</param>
    /// <param name="pattern">The group's path, for links: routing tells a handler its own route, not its group's prefix.</param>
    /// <param name="dashboard">The dashboard.</param>
    public static void Map(RouteGroupBuilder group, string pattern, DashboardContext dashboard)
    {
        pattern = "/" + pattern.Trim('/');

        group.MapGet("/", Run(OverviewPage.Show));
        group.MapGet("/overview/rows", Run(OverviewPage.Rows));
        group.MapGet("/stream", Run(StreamPage.Show));
        group.MapPost("/move", Run(EntryActions.Move));
        group.MapPost("/delete", Run(EntryActions.Delete));
        group.MapGet("/history", Run(HistoryPage.Show));
        group.MapGet("/replay", Run(ReplayPage.Show));
        group.MapPost("/replay", Run(ReplayPage.Post));
        group.MapGet("/rewind", Run(RewindPage.Show));
        group.MapPost("/rewind", Run(RewindPage.Post));
        group.MapGet("/assets/{name}", (string name) => Assets.Get(name));

        RequestDelegate Run(Func<DashboardRequest, Task<IResult>> page) => async http =>
        {
            DashboardRequest request;
            try
            {
                request = await DashboardRequest.Begin(http, dashboard, pattern).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                http.Response.ContentType = "text/plain; charset=utf-8";
                await http.Response.WriteAsync("Redis cannot be reached: " + FirstLine(exception.Message)).ConfigureAwait(false);
                return;
            }

            IResult result;
            try
            {
                result = await page(request).ConfigureAwait(false);
            }
            catch (ArgumentException exception)
            {
                result = Page.Error(request, "Cannot do that", FirstLine(exception.Message));
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                result = Page.Error(request, "Redis failed", FirstLine(exception.Message), StatusCodes.Status503ServiceUnavailable);
            }

            await result.ExecuteAsync(http).ConfigureAwait(false);
        };
    }

    static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        var line = end < 0 ? message : message[..end];
        var parameter = line.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return parameter < 0 ? line : line[..parameter];
    }
}
