namespace MassTransit.RedisStreams.Cli.Commands;

using System;
using System.CommandLine;
using System.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;


/// <summary><c>redis-streams dashboard</c>: the web view on the tool's connection and key prefix, until Ctrl+C.</summary>
static class DashboardCommand
{
    const string ChangesPolicy = "redis-streams-changes";

    public static Command Create()
    {
        var urls = new Option<string>("--urls")
        {
            Description = "Where to listen, e.g. http://127.0.0.1:5080 (several separated by ';'; port 0 picks a free one). Default: http://127.0.0.1:5080.",
            DefaultValueFactory = _ => "http://127.0.0.1:5080"
        };
        var allowChanges = new Option<bool>("--allow-changes")
        {
            Description = "Let whoever opens the page move, delete, replay and rewind. Without it the view is read-only."
        };
        var title = new Option<string?>("--title") { Description = "The title of the pages. Default: Redis Streams." };

        var command = new Command("dashboard", "Serves the operator's web view — streams, groups, failed messages, history, replay, rewind — "
            + "on Kestrel until Ctrl+C. Read-only unless --allow-changes. Needs the ASP.NET Core shared framework (Microsoft.AspNetCore.App) "
            + "beside the .NET runtime. It has no login of its own: keep it on 127.0.0.1, or behind a proxy that authenticates.")
        {
            urls, allowChanges, title
        };

        command.SetAction((parse, cancellationToken) => CliSession.Run(parse, async (session, token) =>
        {
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
            builder.WebHost.UseUrls(parse.GetRequiredValue(urls).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            builder.Services.AddRedisStreamsDashboard();
            // Antiforgery tokens need keys only while the process runs; none are written to the operator's profile.
            builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();

            var changes = parse.GetValue(allowChanges);
            if (changes)
            {
                // The operator's own process on the operator's own machine: whoever reaches the page may change data.
                builder.Services.AddAuthorizationBuilder().AddPolicy(ChangesPolicy, policy => policy.RequireAssertion(_ => true));
            }

            await using var app = builder.Build();
            app.MapRedisStreamsDashboard("/", options =>
            {
                options.Connection = session.Multiplexer;
                options.KeyPrefix = session.KeyPrefix;
                options.ChangesPolicy = changes ? ChangesPolicy : null;
                if (parse.GetValue(title) is { Length: > 0 } text)
                    options.Title = text;
            });

            await app.StartAsync(token).ConfigureAwait(false);

            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
            var prefix = string.IsNullOrEmpty(session.KeyPrefix) ? "no key prefix" : "key prefix " + session.KeyPrefix;
            Console.WriteLine($"Dashboard of {prefix} at {string.Join(", ", addresses.Select(x => x + "/"))} ({(changes ? "changes allowed" : "read-only")}). Ctrl+C stops it.");

            try
            {
                await app.WaitForShutdownAsync(token).ConfigureAwait(false);
            }
            finally
            {
                await app.StopAsync(System.Threading.CancellationToken.None).ConfigureAwait(false);
            }

            return ExitCodes.Done;
        }, cancellationToken));

        return command;
    }
}
