using System.Diagnostics.CodeAnalysis;
using Z4Ai.Format;
using Z4Ai.Internal;

namespace Z4Ai;

/// <summary>
/// A lazily read tensor file, plain <c>.safetensors</c> or <c>.z4ai</c>: opening reads only the header (or the
/// container index); each tensor is read, decoded and, for containers, SHA-256 verified when asked for.
/// Thread-safe for concurrent reads.
/// </summary>
public sealed class SafeTensorsReader : IDisposable, IAsyncDisposable
{
    private readonly TensorFile _file;
    private readonly string[] _sortedKeys;
    private readonly string[] _offsetKeys;

    internal SafeTensorsReader(TensorFile file)
    {
        _file = file;
        _offsetKeys = file.Tensors.Select(t => t.Name).ToArray();
        _sortedKeys = (string[])_offsetKeys.Clone();
        Array.Sort(_sortedKeys, StringComparer.Ordinal);
    }

    /// <summary>Whether the file is a container or plain safetensors.</summary>
    public StorageFormat Format => _file.Format;

    /// <summary>The path the reader was opened on, or null for a stream.</summary>
    public string? FilePath => _file.FilePath;

    /// <summary>Tensor names, sorted ordinally (as the reference's <c>keys()</c>).</summary>
    public IReadOnlyList<string> Keys => _sortedKeys;

    /// <summary>Tensor names in file order.</summary>
    public IReadOnlyList<string> OffsetKeys => _offsetKeys;

    /// <summary>Descriptions of every tensor, in file order.</summary>
    public IReadOnlyList<TensorInfo> Tensors => _file.Tensors;

    /// <summary>The free-form string metadata (<c>__metadata__</c>), or null when the file has none.</summary>
    public IReadOnlyDictionary<string, string>? Metadata => _file.Metadata;

    /// <summary>The number of tensors.</summary>
    public int Count => _offsetKeys.Length;

    /// <summary>Bytes read from the underlying file so far (shows that one-tensor reads stay local).</summary>
    public long BytesRead => _file.BytesRead;

    /// <summary>Whether a tensor of this name exists.</summary>
    public bool ContainsKey(string name) => _file.TryGetInfo(name, out _);

    /// <summary>Describes one tensor without reading it.</summary>
    /// <exception cref="Z4AiTensorNotFoundException">No tensor has this name.</exception>
    public TensorInfo GetInfo(string name) => _file.GetInfo(name);

    /// <summary>Reads one tensor.</summary>
    /// <exception cref="Z4AiTensorNotFoundException">No tensor has this name.</exception>
    /// <exception cref="Z4AiIntegrityException">The stored bytes do not match the recorded SHA-256.</exception>
    /// <exception cref="Z4AiFormatException">The file is corrupt.</exception>
    public Tensor GetTensor(string name)
    {
        TensorInfo info = _file.GetInfo(name);
        return new Tensor(info.DType, info.Shape.ToArray(), _file.ReadTensor(name));
    }

    /// <summary>Reads one tensor, or returns false when no tensor has this name.</summary>
    public bool TryGetTensor(string name, [NotNullWhen(true)] out Tensor? tensor)
    {
        if (!_file.TryGetInfo(name, out _))
        {
            tensor = null;
            return false;
        }

        tensor = GetTensor(name);
        return true;
    }

    /// <summary>Reads one tensor on the thread pool (decoding is CPU-bound).</summary>
    public Task<Tensor> GetTensorAsync(string name, CancellationToken cancellationToken = default) =>
        Task.Run(() => GetTensor(name), cancellationToken);

    /// <summary>
    /// Reads rows <paramref name="start"/> to <paramref name="start"/>+<paramref name="count"/> of the first
    /// dimension, decoding only the chunks that hold them. Container chunks are checked against their
    /// checksums; the whole-tensor SHA-256 needs the whole tensor, so use <see cref="GetTensor"/> for that.
    /// </summary>
    /// <exception cref="Z4AiFormatException">The range is outside the first dimension (<see cref="Z4AiErrorKind.InvalidSlice"/>),
    /// or rows are not a whole number of bytes (<see cref="Z4AiErrorKind.MisalignedSlice"/>).</exception>
    public Tensor GetSlice(string name, long start, long count)
    {
        TensorInfo info = _file.GetInfo(name);
        if (info.Shape.Count == 0)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidSlice, "a scalar has no first dimension to slice", FilePath, name);
        }

        long rows = info.Shape[0];
        if (start < 0 || count < 0 || start > rows || count > rows - start)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidSlice, $"rows [{start}, {start + count}) are outside the first dimension of size {rows}", FilePath, name);
        }

        long[] shape = info.Shape.ToArray();
        shape[0] = 1;
        ulong rowBits = ShapeMath.GetByteLength(DType.U8, shape, name) * (ulong)info.DType.BitSize();
        if (((ulong)start * rowBits) % 8 != 0 || ((ulong)count * rowBits) % 8 != 0)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.MisalignedSlice, "the slice does not start and end on a byte boundary", FilePath, name);
        }

        long offset = (long)((ulong)start * rowBits / 8);
        long length = (long)((ulong)count * rowBits / 8);
        if (length > Array.MaxLength)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.LimitExceeded, $"the slice is {length} bytes, more than one .NET array holds", FilePath, name);
        }

        byte[] data = GC.AllocateUninitializedArray<byte>((int)length);
        _file.ReadRange(name, offset, data);
        shape[0] = count;
        return new Tensor(info.DType, shape, data);
    }

    /// <summary>Streams one tensor's raw bytes to <paramref name="destination"/> in bounded memory.</summary>
    /// <remarks>For containers the SHA-256 is checked at the end, after the bytes were written: on
    /// <see cref="Z4AiIntegrityException"/> discard what was written.</remarks>
    public void CopyTensorTo(string name, Stream destination, CancellationToken cancellationToken = default) =>
        _file.CopyTensorTo(name, destination, cancellationToken);

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _file.Dispose();
        return ValueTask.CompletedTask;
    }
}
