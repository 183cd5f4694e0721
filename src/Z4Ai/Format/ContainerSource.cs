using Microsoft.Win32.SafeHandles;

namespace Z4Ai.Format;

/// <summary>
/// Positional, thread-safe reads from a container, counting every byte read. A file uses
/// <see cref="RandomAccess"/> (no shared position, so workers read concurrently); a stream is serialised by a lock.
/// </summary>
internal abstract class ContainerSource : IDisposable
{
    private long _bytesRead;

    protected ContainerSource(long length, string? displayName)
    {
        Length = length;
        DisplayName = displayName;
    }

    /// <summary>The length of the container in bytes, fixed when it was opened.</summary>
    public long Length { get; }

    /// <summary>The path or name used in error messages, or null.</summary>
    public string? DisplayName { get; }

    /// <summary>Every byte read so far.</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    /// <summary>Opens a file for random access.</summary>
    public static ContainerSource OpenFile(string path)
    {
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            return new FileSource(handle, path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Wraps a readable, seekable stream.</summary>
    public static ContainerSource FromStream(Stream stream, bool leaveOpen, string? displayName) => new StreamSource(stream, leaveOpen, displayName);

    /// <summary>Fills <paramref name="destination"/> from <paramref name="offset"/>; a short file is a format error.</summary>
    public void ReadExactly(long offset, Span<byte> destination)
    {
        int read = ReadCore(offset, destination);
        Interlocked.Add(ref _bytesRead, read);
        if (read != destination.Length)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidContainer,
                $"the file ended after {read} of {destination.Length} bytes; it was truncated while open",
                DisplayName,
                offset: offset + read);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Reads as many bytes as are available, up to the destination length.</summary>
    protected abstract int ReadCore(long offset, Span<byte> destination);

    /// <summary>Releases the handle or stream.</summary>
    protected abstract void Dispose(bool disposing);

    private sealed class FileSource(SafeFileHandle handle, string path) : ContainerSource(RandomAccess.GetLength(handle), path)
    {
        protected override int ReadCore(long offset, Span<byte> destination)
        {
            int total = 0;
            while (total < destination.Length)
            {
                int n = RandomAccess.Read(handle, destination[total..], offset + total);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }

            return total;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                handle.Dispose();
            }
        }
    }

    private sealed class StreamSource(Stream stream, bool leaveOpen, string? displayName) : ContainerSource(stream.Length, displayName)
    {
        private readonly Lock _gate = new();

        protected override int ReadCore(long offset, Span<byte> destination)
        {
            lock (_gate)
            {
                stream.Position = offset;
                return stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !leaveOpen)
            {
                stream.Dispose();
            }
        }
    }
}
