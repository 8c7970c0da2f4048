namespace MassTransit.RedisStreams.Archive;

using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;


/// <summary>Where segment files are kept: a directory, or an object store.</summary>
interface IArchiveStore
{
    /// <summary>For people: the directory, or <c>s3://bucket/prefix</c>.</summary>
    string Location { get; }

    /// <summary>A new temporary file to write a segment of <paramref name="streamKey" /> to, before it is put in place.</summary>
    string CreateTemporaryFile(string streamKey);

    /// <summary>
    /// Puts a flushed temporary file in place as segment <paramref name="name" /> of <paramref name="streamKey" />, durably, and
    /// returns where it is. The temporary file is gone afterwards.
    /// </summary>
    Task<string> Commit(string temporaryFile, string streamKey, string name, CancellationToken cancellationToken);

    /// <summary>The segment files of <paramref name="streamKey" />: name, location and size.</summary>
    Task<IReadOnlyList<(string Name, string Location, long Bytes)>> List(string streamKey, CancellationToken cancellationToken);

    /// <summary>Opens a segment to read; the stream can seek.</summary>
    Task<Stream> OpenRead(string location, CancellationToken cancellationToken);
}
