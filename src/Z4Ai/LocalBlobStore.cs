using System.Runtime.CompilerServices;
using Z4Ai.Registry;

namespace Z4Ai;

/// <summary>
/// An <see cref="IBlobStore"/> in a local directory: the default home of a <see cref="ModelRegistry"/>. Key
/// <c>a/b/c</c> is the file <c>DIR/a/b/c</c>.
/// </summary>
/// <remarks>
/// <para>
/// Writes go to a temporary file in the store's <c>tmp</c> folder, which is flushed to the device (<c>fsync</c>), then published
/// under its key only if the key is free, atomically (a hard link on Unix, a non-replacing move on Windows, so exactly
/// one of two racing writers wins), and finally the directory entry itself is flushed. A process killed at any
/// instant leaves either the whole blob or none of it, plus at most a stray temporary file that garbage collection
/// removes once it is older than its grace period.
/// </para>
/// <para>
/// Locks are advisory file locks on <c>DIR/locks/NAME.lock</c> (<c>flock</c> on Unix, share modes on Windows),
/// released by the operating system when the holder dies. Setting <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c>
/// disables them, and the registry then relies on the grace period alone.
/// </para>
/// </remarks>
public sealed class LocalBlobStore : IBlobStore
{
    private const int CopyBufferSize = 1 << 16;

    /// <summary>
    /// Opens a store in <paramref name="directory"/>. The directory is created by the first write, so opening a
    /// mistyped path to read leaves nothing behind.
    /// </summary>
    /// <exception cref="ArgumentException">The path is empty.</exception>
    public LocalBlobStore(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Root = Path.GetFullPath(directory);
    }

    /// <summary>The full path of the directory.</summary>
    public string Root { get; }

    /// <inheritdoc />
    public string Location => Root;

    /// <inheritdoc />
    public ValueTask<BlobInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        BlobKeys.ThrowIfInvalid(key, nameof(key));
        cancellationToken.ThrowIfCancellationRequested();
        var file = new FileInfo(PathOf(key));
        return ValueTask.FromResult(file.Exists ? new BlobInfo(key, file.Length, file.LastWriteTimeUtc) : null);
    }

    /// <inheritdoc />
    public ValueTask<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        BlobKeys.ThrowIfInvalid(key, nameof(key));
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        cancellationToken.ThrowIfCancellationRequested();
        using Microsoft.Win32.SafeHandles.SafeFileHandle handle = OpenHandle(key);
        Span<byte> span = destination.Span;
        int total = 0;
        while (total < span.Length)
        {
            int n = RandomAccess.Read(handle, span[total..], offset + total);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return ValueTask.FromResult(total);
    }

    /// <inheritdoc />
    public ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        BlobKeys.ThrowIfInvalid(key, nameof(key));
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            return ValueTask.FromResult<Stream>(new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, CopyBufferSize, FileOptions.SequentialScan));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw NotFound(key, ex);
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> PutIfAbsentAsync(string key, Func<Stream, CancellationToken, ValueTask> writeContent, CancellationToken cancellationToken = default)
    {
        BlobKeys.ThrowIfInvalid(key, nameof(key));
        ArgumentNullException.ThrowIfNull(writeContent);
        string target = PathOf(key);
        if (File.Exists(target))
        {
            return false;
        }

        string tempDirectory = Path.Combine(Root, "tmp");
        Directory.CreateDirectory(tempDirectory);
        string temp = Path.Combine(tempDirectory, $"{Guid.NewGuid():N}.tmp");
        bool published = false;
        try
        {
            var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBufferSize, FileOptions.None);
            await using (stream.ConfigureAwait(false))
            {
                await writeContent(stream, cancellationToken).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();

                // The data must be on the device before the name that publishes it is.
                stream.Flush(flushToDisk: true);
            }

            string directory = Path.GetDirectoryName(target)!;
            bool created = EnsureDirectory(directory);
            if (!Publish(temp, target))
            {
                return false;
            }

            published = true;
            UnixFileSystem.FlushDirectory(directory);
            if (created)
            {
                UnixFileSystem.FlushDirectory(Path.GetDirectoryName(directory)!);
            }

            return true;
        }
        finally
        {
            if (!published)
            {
                TryDelete(temp);
            }
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<BlobInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        BlobKeys.ThrowIfInvalidPrefix(prefix, nameof(prefix));
        int slash = prefix.LastIndexOf('/');
        string start = slash < 0 ? Root : Path.Combine(Root, prefix[..slash].Replace('/', Path.DirectorySeparatorChar));
        if (!Directory.Exists(start))
        {
            yield break;
        }

        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.None };
        foreach (string path in Directory.EnumerateFiles(start, "*", options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            string key = Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/');
            if (!key.StartsWith(prefix, StringComparison.Ordinal) || !BlobKeys.IsValid(key))
            {
                continue;
            }

            var file = new FileInfo(path);
            if (file.Exists)
            {
                yield return new BlobInfo(key, file.Length, file.LastWriteTimeUtc);
            }
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        BlobKeys.ThrowIfInvalid(key, nameof(key));
        cancellationToken.ThrowIfCancellationRequested();
        string path = PathOf(key);
        if (!File.Exists(path))
        {
            return ValueTask.FromResult(false);
        }

        File.Delete(path);
        UnixFileSystem.FlushDirectory(Path.GetDirectoryName(path)!);
        return ValueTask.FromResult(true);
    }

    /// <inheritdoc />
    public ValueTask TouchAsync(string key, CancellationToken cancellationToken = default)
    {
        BlobKeys.ThrowIfInvalid(key, nameof(key));
        cancellationToken.ThrowIfCancellationRequested();
        string path = PathOf(key);
        try
        {
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw NotFound(key, ex);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<IAsyncDisposable?> TryLockAsync(string name, bool exclusive, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/', StringComparison.Ordinal) || !BlobKeys.IsValid(name))
        {
            throw new ArgumentException($"'{name}' is not a lock name (one key segment)", nameof(name));
        }

        cancellationToken.ThrowIfCancellationRequested();
        string directory = Path.Combine(Root, "locks");
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, name + ".lock");
        try
        {
            // On Unix, .NET takes flock(LOCK_EX) for FileShare.None and flock(LOCK_SH) otherwise; on Windows the share
            // modes themselves exclude each other the same way.
            FileStream stream = exclusive
                ? new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None)
                : new FileStream(path, FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
            return ValueTask.FromResult<IAsyncDisposable?>(stream);
        }
        catch (IOException ex) when (ex is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
        {
            return ValueTask.FromResult<IAsyncDisposable?>(null);
        }
    }

    /// <inheritdoc />
    public override string ToString() => Root;

    private static KeyNotFoundException NotFound(string key, Exception inner) => new($"no blob '{key}' in the store", inner);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a stray temporary file is removed by a later garbage collection.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above.
        }
    }

    /// <summary>Gives the temporary file its final name unless that name exists; exactly one racing writer wins.</summary>
    private static bool Publish(string temp, string target)
    {
        switch (UnixFileSystem.TryLink(temp, target))
        {
            case UnixFileSystem.LinkResult.Linked:
                TryDelete(temp);
                return true;
            case UnixFileSystem.LinkResult.Exists:
                return false;
        }

        // Windows (MoveFileEx without REPLACE_EXISTING is atomic) or a Unix file system without hard links, where
        // .NET checks and renames: the best that is portable.
        try
        {
            File.Move(temp, target, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(target))
        {
            return false;
        }
    }

    private static bool EnsureDirectory(string directory)
    {
        if (Directory.Exists(directory))
        {
            return false;
        }

        Directory.CreateDirectory(directory);
        return true;
    }

    private Microsoft.Win32.SafeHandles.SafeFileHandle OpenHandle(string key)
    {
        try
        {
            return File.OpenHandle(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.RandomAccess);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw NotFound(key, ex);
        }
    }

    private string PathOf(string key) => Path.Combine(Root, key.Replace('/', Path.DirectorySeparatorChar));
}
