namespace Z4Ai.Format;

/// <summary>
/// One open tensor file, plain safetensors or container, behind a single surface so every reader accepts both.
/// The format is told apart by the container magic in the first bytes.
/// </summary>
internal abstract class TensorFile : IDisposable
{
    /// <summary>Bytes inspected to tell the formats apart.</summary>
    public const int SniffLength = 8;

    public abstract StorageFormat Format { get; }

    public abstract string? FilePath { get; }

    /// <summary>Tensors in file order.</summary>
    public abstract IReadOnlyList<TensorInfo> Tensors { get; }

    public abstract IReadOnlyDictionary<string, string>? Metadata { get; }

    /// <summary>The number of bytes read from the underlying file so far.</summary>
    public abstract long BytesRead { get; }

    public static TensorFile Open(string path) => Open(path, ReadLimits.Default);

    public static TensorFile Open(string path, ReadLimits limits)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        }
        catch (FileNotFoundException)
        {
            throw;
        }

        try
        {
            return Open(stream, leaveOpen: false, path, limits);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public static TensorFile Open(Stream stream, bool leaveOpen, string? displayName, ReadLimits? limits = null)
    {
        limits ??= ReadLimits.Default;
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek || !stream.CanRead)
        {
            throw new ArgumentException("the stream must be readable and seekable; copy it to a file or MemoryStream first", nameof(stream));
        }

        Span<byte> head = stackalloc byte[SniffLength];
        stream.Position = 0;
        int n = stream.ReadAtLeast(head, SniffLength, throwOnEndOfStream: false);
        stream.Position = 0;
        try
        {
            if (ContainerReader.HasMagic(head[..n]))
            {
                return new ContainerTensorFile(ContainerReader.Open(stream, leaveOpen, displayName, limits));
            }

            return new PlainTensorFile(stream, leaveOpen, displayName, limits);
        }
        catch (Z4AiFormatException ex) when (displayName is not null && ex.FilePath is null)
        {
            throw ex.WithFile(displayName);
        }
    }

    public bool TryGetInfo(string name, out TensorInfo info)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Index.TryGetValue(name, out info!);
    }

    public TensorInfo GetInfo(string name) =>
        TryGetInfo(name, out TensorInfo info) ? info : throw new Z4AiTensorNotFoundException(name, FilePath);

    /// <summary>Reads a whole tensor; container tensors are SHA-256 verified before they are returned.</summary>
    public abstract byte[] ReadTensor(string name);

    /// <summary>Reads a byte range of one tensor, decoding only what covers it.</summary>
    public abstract void ReadRange(string name, long offset, Span<byte> destination);

    /// <summary>Streams a tensor in bounded memory.</summary>
    public abstract void CopyTensorTo(string name, Stream destination, CancellationToken cancellationToken);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected abstract void Dispose(bool disposing);

    protected abstract IReadOnlyDictionary<string, TensorInfo> Index { get; }

    protected static void CheckArrayLength(TensorInfo info, string? path)
    {
        if (info.ByteLength > Array.MaxLength)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.LimitExceeded,
                $"the tensor is {info.ByteLength} bytes, more than one .NET array holds; stream it with CopyTensorTo or read slices",
                path,
                info.Name);
        }
    }

    protected static void CheckRange(TensorInfo info, long offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset > info.ByteLength - length)
        {
            throw new ArgumentOutOfRangeException(
                nameof(offset), $"bytes [{offset}, {offset + length}) are outside tensor '{info.Name}' of {info.ByteLength} bytes");
        }
    }
}
