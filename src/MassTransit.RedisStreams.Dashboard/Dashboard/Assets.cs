namespace MassTransit.RedisStreams.Dashboard;

using System.Collections.Concurrent;
using System.IO;
using Microsoft.AspNetCore.Http;


/// <summary>The style sheet and the script, served from the assembly's resources: the dashboard needs nothing from elsewhere.</summary>
static class Assets
{
    static readonly ConcurrentDictionary<string, byte[]?> Loaded = new();

    public static IResult Get(string name)
    {
        var contentType = name switch
        {
            "dashboard.css" => "text/css; charset=utf-8",
            "dashboard.js" => "text/javascript; charset=utf-8",
            _ => null
        };

        if (contentType == null || Loaded.GetOrAdd(name, Load) is not { } content)
            return Results.NotFound();

        return Results.Bytes(content, contentType);
    }

    static byte[]? Load(string name)
    {
        using var stream = typeof(Assets).Assembly.GetManifestResourceStream("MassTransit.RedisStreams.Dashboard.Assets." + name);
        if (stream == null)
            return null;

        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }
}
