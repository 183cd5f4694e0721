using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Z4Ai.S3.Client;

/// <summary>
/// The bytes of one upload, re-readable from the start or from any part (a retry or a multipart part reopens them),
/// with their length and SHA-256 known before the first byte is sent. Either a buffer (not copied: the caller must
/// not change it during the upload) or a file that must not change while it is uploaded.
/// </summary>
internal sealed class S3UploadContent
{
    private readonly ReadOnlyMemory<byte> _memory;
    private readonly string? _path;

    private S3UploadContent(ReadOnlyMemory<byte> memory, string? path, long length, string sha256)
    {
        _memory = memory;
        _path = path;
        Length = length;
        Sha256 = sha256;
    }

    public long Length { get; }

    /// <summary>The SHA-256 of the whole content, lowercase hex.</summary>
    public string Sha256 { get; }

    public static S3UploadContent FromMemory(ReadOnlyMemory<byte> content) =>
        new(content, null, content.Length, Convert.ToHexStringLower(SHA256.HashData(content.Span)));

    /// <summary>Wraps a file, hashing it once now.</summary>
    public static async Task<S3UploadContent> FromFileAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (stream.ConfigureAwait(false))
        {
            byte[] hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
            return new S3UploadContent(default, full, stream.Length, Convert.ToHexStringLower(hash));
        }
    }

    public Stream OpenRead() => OpenRange(0, Length);

    /// <summary>A seekable read-only stream over bytes [offset, offset + length); the SDK seeks it to sign the payload.</summary>
    public Stream OpenRange(long offset, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Length - offset);
        if (_path is null)
        {
            ReadOnlyMemory<byte> slice = _memory.Slice(checked((int)offset), checked((int)length));
            if (MemoryMarshal.TryGetArray(slice, out ArraySegment<byte> segment))
            {
                return new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false);
            }

            return new MemoryStream(slice.ToArray(), writable: false);
        }

        var file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
        try
        {
            if (file.Length < offset + length)
            {
                throw new IOException($"{_path} shrank during the upload (now {file.Length} bytes, {Length} expected)");
            }

            return new ReadOnlySubStream(file, offset, length);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}
