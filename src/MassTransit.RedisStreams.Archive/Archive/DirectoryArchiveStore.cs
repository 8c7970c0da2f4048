namespace MassTransit.RedisStreams.Archive;

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;


/// <summary>
/// Segments as files in a directory, one folder per stream. A segment is written to a temporary file in its stream's folder,
/// flushed to disk, renamed to its name (atomic on one file system), and the folder is flushed so that the rename survives a
/// power loss. Every instance that archives or reads must see the same directory (a shared volume).
/// </summary>
sealed class DirectoryArchiveStore :
    IArchiveStore
{
    const string TemporaryPrefix = ".tmp-";

    /// <summary>A temporary file this old was left by a process that died while writing it.</summary>
    static readonly TimeSpan AbandonedAfter = TimeSpan.FromHours(1);

    readonly string _root;

    public DirectoryArchiveStore(string root)
    {
        _root = Path.GetFullPath(root);
    }

    public string Location => _root;

    public string CreateTemporaryFile(string streamKey)
    {
        var folder = Path.Combine(_root, SegmentNames.Folder(streamKey));
        Directory.CreateDirectory(folder);

        foreach (var abandoned in Directory.EnumerateFiles(folder, TemporaryPrefix + "*"))
        {
            if (DateTime.UtcNow - File.GetLastWriteTimeUtc(abandoned) > AbandonedAfter)
                File.Delete(abandoned);
        }

        return Path.Combine(folder, TemporaryPrefix + Guid.NewGuid().ToString("N") + SegmentNames.Extension);
    }

    public Task<string> Commit(string temporaryFile, string streamKey, string name, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(_root, SegmentNames.Folder(streamKey));
        var path = Path.Combine(folder, name);

        File.Move(temporaryFile, path, overwrite: true);
        FlushDirectory(folder);

        return Task.FromResult(path);
    }

    public Task<IReadOnlyList<(string Name, string Location, long Bytes)>> List(string streamKey, CancellationToken cancellationToken)
    {
        var folder = new DirectoryInfo(Path.Combine(_root, SegmentNames.Folder(streamKey)));
        IReadOnlyList<(string, string, long)> files = folder.Exists
            ? folder.EnumerateFiles("*" + SegmentNames.Extension).Where(x => !x.Name.StartsWith(TemporaryPrefix, StringComparison.Ordinal))
                .Select(x => (x.Name, x.FullName, x.Length)).ToList()
            : [];

        return Task.FromResult(files);
    }

    public Task<Stream> OpenRead(string location, CancellationToken cancellationToken)
    {
        return Task.FromResult<Stream>(new FileStream(location, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous));
    }

    /// <summary>fsync of the directory, so that a rename in it is on disk: on Linux and macOS; Windows flushes the metadata itself.</summary>
    static void FlushDirectory(string folder)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            return;

        var descriptor = Native.open(folder, 0);
        if (descriptor < 0)
            throw new IOException($"Could not open the directory {folder} to flush it (errno {Marshal.GetLastPInvokeError()}).");

        try
        {
            if (Native.fsync(descriptor) != 0)
                throw new IOException($"Could not flush the directory {folder} (errno {Marshal.GetLastPInvokeError()}).");
        }
        finally
        {
            _ = Native.close(descriptor);
        }
    }


    static class Native
    {
#pragma warning disable SYSLIB1054, CA5392, CA2101, IDE1006
        [DllImport("libc", SetLastError = true)]
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int fsync(int descriptor);

        [DllImport("libc")]
        public static extern int close(int descriptor);
#pragma warning restore SYSLIB1054, CA5392, CA2101, IDE1006
    }
}
