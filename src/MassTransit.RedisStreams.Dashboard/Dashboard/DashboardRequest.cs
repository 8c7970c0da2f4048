namespace MassTransit.RedisStreams.Dashboard;

using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;


/// <summary>One request to the dashboard: the data, whether the user may change it, and links under the dashboard's own path.</summary>
sealed class DashboardRequest
{
    DashboardRequest(HttpContext http, DashboardContext dashboard, DashboardData data, bool canChange, string basePath)
    {
        Http = http;
        Dashboard = dashboard;
        Data = data;
        CanChange = canChange;
        BasePath = basePath;
    }

    public HttpContext Http { get; }
    public DashboardContext Dashboard { get; }
    public DashboardData Data { get; }
    public RedisStreamsDashboardOptions Options => Dashboard.Options;

    /// <summary>True when <see cref="RedisStreamsDashboardOptions.ChangesPolicy" /> names a policy this user meets.</summary>
    public bool CanChange { get; }

    /// <summary>The path the dashboard is mapped under, with the application's path base, without a trailing slash.</summary>
    public string BasePath { get; }

    public static async Task<DashboardRequest> Begin(HttpContext http, DashboardContext dashboard, string pattern)
    {
        var canChange = false;
        if (dashboard.Options.ChangesPolicy is { } policy)
        {
            var authorization = http.RequestServices.GetRequiredService<IAuthorizationService>();
            canChange = (await authorization.AuthorizeAsync(http.User, policy).ConfigureAwait(false)).Succeeded;
        }

        var data = await dashboard.Source.Get().ConfigureAwait(false);
        return new DashboardRequest(http, dashboard, data, canChange, (http.Request.PathBase + pattern).ToString().TrimEnd('/'));
    }

    /// <summary>A link to a page of the dashboard, with its query values URL-encoded; empty values are left out.</summary>
    public string Link(string page, params (string Name, string? Value)[] query)
    {
        var path = BasePath + "/" + page.TrimStart('/');
        return QueryHelpers.AddQueryString(path, query.Where(x => !string.IsNullOrEmpty(x.Value)).Select(x =>
            new System.Collections.Generic.KeyValuePair<string, string?>(x.Name, x.Value)));
    }

    /// <summary>The hidden antiforgery field every form that POSTs carries.</summary>
    public Markup AntiforgeryField()
    {
        var tokens = Http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(Http);
        return Html.Of($"<input type=\"hidden\" name=\"{tokens.FormFieldName}\" value=\"{tokens.RequestToken}\">");
    }

    /// <summary>
    /// Whether a POST that changes data may go on: refused with 403 when the user may not change data, and with 400 when its
    /// antiforgery token is missing or wrong. Null when it may go on, else the page to answer with.
    /// </summary>
    public async Task<IResult?> RefuseChange()
    {
        if (!CanChange)
        {
            return Page.Result(this, "Not allowed", Html.Of(
                $"<p class=\"error\">This dashboard is read-only for you: changes need the authorization policy set in RedisStreamsDashboardOptions.ChangesPolicy.</p>"),
                StatusCodes.Status403Forbidden);
        }

        try
        {
            await Http.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(Http).ConfigureAwait(false);
        }
        catch (AntiforgeryValidationException)
        {
            return Page.Result(this, "Form expired", Html.Of($"<p class=\"error\">The form was not sent by this dashboard, or it expired: load the page again.</p>"),
                StatusCodes.Status400BadRequest);
        }

        return null;
    }

    public string? Query(string name) => Http.Request.Query[name].FirstOrDefault() is { Length: > 0 } value ? value : null;

    public static string? Form(IFormCollection form, string name) => form[name].FirstOrDefault() is { } value && !string.IsNullOrWhiteSpace(value)
        ? value.Trim()
        : null;

    public static bool Confirmed(IFormCollection form) => string.Equals(Form(form, "confirmed"), "yes", StringComparison.Ordinal);
}
