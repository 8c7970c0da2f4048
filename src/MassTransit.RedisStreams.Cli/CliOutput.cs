namespace MassTransit.RedisStreams.Cli;

using System;
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;
using Commands;
using Spectre.Console;
using Spectre.Console.Rendering;


/// <summary>
/// How a command writes: tables for a person, or with <c>--output json</c> one JSON document on stdout and nothing else;
/// progress bars only for a person at a terminal; questions on stderr.
/// </summary>
static class CliOutput
{
    static readonly JsonSerializerOptions Indented = Options(indented: true);
    static readonly JsonSerializerOptions OneLine = Options(indented: false);

    public static bool IsJson(ParseResult parse) => parse.GetValue(CliOptions.Output) == OutputFormat.Json;

    /// <summary>A document on stdout: indented, or on one line (for <c>--watch</c>, one document a line).</summary>
    public static void WriteJson(object value, bool indented = true)
    {
        Console.Out.WriteLine(JsonSerializer.Serialize(value, value.GetType(), indented ? Indented : OneLine));
        Console.Out.Flush();
    }

    /// <summary>Runs <paramref name="work" /> under a progress bar when a person watches; reports go nowhere otherwise.</summary>
    public static async Task Progress(ParseResult parse, string description, long? total, Func<IProgress<long>?, Task> work)
    {
        if (IsJson(parse) || Console.IsOutputRedirected)
        {
            await work(null).ConfigureAwait(false);
            return;
        }

        await ReplayCommand.Progress().StartAsync(async context =>
        {
            var task = context.AddTask(Markup.Escape(description), maxValue: Math.Max(1, total ?? 1));
            task.IsIndeterminate = total == null;
            await work(new InlineProgress(x => task.Value = Math.Min(x, task.MaxValue))).ConfigureAwait(false);
            task.Value = task.MaxValue;
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// For a command that changes data: true to go on. With <c>--yes</c> it does not ask; when standard input is not a terminal
    /// and there is no <c>--yes</c>, it refuses with exit code 2 rather than guess.
    /// </summary>
    public static bool Confirm(ParseResult parse, Option<bool> yes, string question)
    {
        if (parse.GetValue(yes))
            return true;

        if (Console.IsInputRedirected)
        {
            throw new CliException(ExitCodes.Usage,
                $"refusing to change data without --yes: standard input is not a terminal to confirm on ({question.TrimEnd('?')}).");
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        if (console.Confirm(Markup.Escape(question), defaultValue: false))
            return true;

        Console.Error.WriteLine("Nothing changed.");
        return false;
    }

    /// <summary>
    /// Redraws a view every <paramref name="interval" /> until cancelled (Ctrl+C): a Spectre live display at a terminal, one view
    /// after another when the output is redirected, one JSON document a line with <c>--output json</c>.
    /// </summary>
    public static async Task<int> Watch(ParseResult parse, TimeSpan interval, Func<Task<(IRenderable View, object Json)>> snapshot,
        CancellationToken cancellationToken)
    {
        try
        {
            if (IsJson(parse) || Console.IsOutputRedirected)
            {
                while (true)
                {
                    var (view, json) = await snapshot().ConfigureAwait(false);
                    if (IsJson(parse))
                        WriteJson(json, indented: false);
                    else
                    {
                        AnsiConsole.Write(view);
                        Console.Out.Flush();
                    }

                    await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
                }
            }

            var (first, _) = await snapshot().ConfigureAwait(false);
            await AnsiConsole.Live(first).StartAsync(async context =>
            {
                while (true)
                {
                    await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
                    var (view, _) = await snapshot().ConfigureAwait(false);
                    context.UpdateTarget(view);
                    context.Refresh();
                }
            }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        return ExitCodes.Done;
    }

    static JsonSerializerOptions Options(bool indented) => new(JsonSerializerDefaults.Web)
    {
        WriteIndented = indented,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) }
    };
}
