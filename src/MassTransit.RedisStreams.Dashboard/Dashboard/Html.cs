namespace MassTransit.RedisStreams.Dashboard;

using System;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;


/// <summary>Markup that is written as it is: made by the dashboard itself, never from Redis or a request.</summary>
readonly record struct Markup(string Value)
{
    public override string ToString() => Value;
}


/// <summary>
/// Builds a page. Every value put into an interpolated string is HTML-encoded unless it is <see cref="Markup" />, so text from
/// Redis or a request cannot become markup by forgetting to encode it.
/// </summary>
sealed class Html
{
    readonly StringBuilder _builder = new();

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "The handler, made with this instance, has appended already.")]
    public void Add([InterpolatedStringHandlerArgument("")] ref HtmlHandler handler)
    {
        // The handler has appended to the builder already.
    }

    public void Raw(Markup markup) => _builder.Append(markup.Value);

    public void Text(string? text) => _builder.Append(Encode(text));

    internal StringBuilder Builder => _builder;

    public Markup ToMarkup() => new(_builder.ToString());

    public override string ToString() => _builder.ToString();

    public static string Encode(string? text) => string.IsNullOrEmpty(text) ? "" : HtmlEncoder.Default.Encode(text);

    /// <summary>One interpolated string with its values encoded.</summary>
    public static Markup Of(ref HtmlFragmentHandler handler) => handler.ToMarkup();
}


/// <summary>Appends literals as they are and values encoded, unless they are <see cref="Markup" />.</summary>
[InterpolatedStringHandler]
ref struct HtmlHandler
{
    readonly StringBuilder _builder;

    public HtmlHandler(int literalLength, int formattedCount, Html html)
    {
        _ = literalLength;
        _ = formattedCount;
        _builder = html.Builder;
    }

    public void AppendLiteral(string literal) => _builder.Append(literal);

    public void AppendFormatted<T>(T value) => _builder.Append(HtmlValues.Encode(value));
}


/// <summary>The handler of <see cref="Html.Of" />.</summary>
[InterpolatedStringHandler]
ref struct HtmlFragmentHandler
{
    readonly StringBuilder _builder;

    public HtmlFragmentHandler(int literalLength, int formattedCount)
    {
        _ = formattedCount;
        _builder = new StringBuilder(literalLength + 64);
    }

    public void AppendLiteral(string literal) => _builder.Append(literal);

    public void AppendFormatted<T>(T value) => _builder.Append(HtmlValues.Encode(value));

    public readonly Markup ToMarkup() => new(_builder.ToString());
}


static class HtmlValues
{
    public static string Encode<T>(T value) => value switch
    {
        null => "",
        Markup markup => markup.Value,
        IFormattable formattable => Html.Encode(formattable.ToString(null, CultureInfo.InvariantCulture)),
        _ => Html.Encode(value.ToString())
    };
}
