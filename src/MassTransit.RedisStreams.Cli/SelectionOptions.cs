namespace MassTransit.RedisStreams.Cli;

using System.CommandLine;
using System.Linq;
using Operations;
using Redis;


/// <summary>The options that select entries, the same for peek, move and delete.</summary>
sealed class SelectionOptions
{
    readonly Option<string[]> _ids = new("--id")
    {
        Description = "Only this entry; repeat for more (--id 1796028075124-0 --id 1796028075125-0)."
    };

    readonly Option<RedisStreamsPosition?> _from = CliOptions.Position("--from", "The oldest entry to take.");
    readonly Option<RedisStreamsPosition?> _to = CliOptions.Position("--to", "The newest entry to take.");
    readonly Option<RedisStreamsPosition?> _since = CliOptions.Position("--since", "Only entries appended since then.");
    readonly Option<RedisStreamsPosition?> _until = CliOptions.Position("--until", "Only entries appended until then.");

    readonly Option<string?> _messageType = new("--message-type", "-t")
    {
        Description = "Only messages of this type: a name (AuctionEnded), namespace:name, or any part of the type's URN; ignores case."
    };

    readonly Option<string?> _exceptionType = new("--exception-type", "-x")
    {
        Description = "Only entries that failed with this exception type, with or without its namespace (InvalidOperationException)."
    };

    readonly Option<long?> _limit;
    readonly bool _withTo;

    /// <param name="limitDescription">What --limit means for the command.</param>
    /// <param name="withTo">
    /// False for move, whose --to names the target queue: there --until (which takes entry IDs too) ends the window.
    /// </param>
    public SelectionOptions(string limitDescription, bool withTo = true)
    {
        _limit = new Option<long?>("--limit", "-n") { Description = limitDescription }.AtLeastOne();
        _withTo = withTo;
    }

    public void AddTo(Command command)
    {
        command.Options.Add(_ids);
        command.Options.Add(_from);
        if (_withTo)
            command.Options.Add(_to);
        command.Options.Add(_since);
        command.Options.Add(_until);
        command.Options.Add(_messageType);
        command.Options.Add(_exceptionType);
        command.Options.Add(_limit);
    }

    public EntrySelection Get(ParseResult parse, long? defaultLimit = null)
    {
        var ids = (parse.GetValue(_ids) ?? []).Select(text => StreamEntryId.TryParse(text, out var id)
            ? id
            : throw new CliException(ExitCodes.Usage, $"'{text}' is not an entry ID (1696320000000-0).")).ToArray();
        var (first, last) = EntrySelection.Window(parse.GetValue(_from), _withTo ? parse.GetValue(_to) : null, parse.GetValue(_since), parse.GetValue(_until));

        return new EntrySelection
        {
            Ids = ids,
            First = first,
            Last = last,
            MessageType = parse.GetValue(_messageType),
            ExceptionType = parse.GetValue(_exceptionType),
            Limit = parse.GetValue(_limit) ?? defaultLimit
        };
    }
}
