using System.Buffers;
using CommunityToolkit.HighPerformance;
using Z4Ai.Format;

namespace Z4Ai;

/// <summary>
/// The drop-in safetensors API. Every reader accepts both plain <c>.safetensors</c> files (read exactly as the
/// reference implementation reads them) and Z4Ai containers, told apart by the container magic, so callers do
/// not change. Writers produce the compressed container unless <see cref="SaveOptions.Format"/> says
/// <see cref="StorageFormat.SafeTensors"/>.
/// </summary>
public static class SafeTensorsCompat
{
    /// <summary>
    /// Saves tensors to <paramref name="path"/> (the compressed container by default). The file is written under a
    /// temporary name and renamed into place, so a failed or cancelled save leaves no partial file.
    /// </summary>
    /// <param name="tensors">Tensors by name; the order does not matter (the output is canonical).</param>
    /// <param name="path">The file to write; replaced if it exists.</param>
    /// <param name="metadata">Optional <c>__metadata__</c> strings.</param>
    /// <param name="options">Format, effort and chunking; null for the defaults.</param>
    /// <exception cref="Z4AiFormatException">A tensor is named <c>__metadata__</c>, or the header is too large.</exception>
    public static void SaveFile(
        IReadOnlyDictionary<string, Tensor> tensors,
        string path,
        IReadOnlyDictionary<string, string>? metadata = null,
        SaveOptions? options = null) =>
        SaveFileCore(tensors, path, metadata, options, CancellationToken.None);

    /// <summary>Saves tensors to a file on the thread pool; see <see cref="SaveFile"/>.</summary>
    public static Task SaveFileAsync(
        IReadOnlyDictionary<string, Tensor> tensors,
        string path,
        IReadOnlyDictionary<string, string>? metadata = null,
        SaveOptions? options = null,
        CancellationToken cancellationToken = default) =>
        Task.Run(() => SaveFileCore(tensors, path, metadata, options, cancellationToken), cancellationToken);

    /// <summary>Serialises tensors to a new byte array (the compressed container by default).</summary>
    public static byte[] Save(
        IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null,
        SaveOptions? options = null)
    {
        using var memory = new MemoryStream();
        Save(tensors, memory, metadata, options);
        return memory.ToArray();
    }

    /// <summary>Serialises tensors to a stream (which need not be seekable).</summary>
    public static void Save(
        IReadOnlyDictionary<string, Tensor> tensors,
        Stream destination,
        IReadOnlyDictionary<string, string>? metadata = null,
        SaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(destination);
        options ??= SaveOptions.Default;
        options.Validate();
        TensorSetWriter.Write(tensors, metadata, options, destination, CancellationToken.None);
    }

    /// <summary>Serialises tensors into a caller-owned buffer writer.</summary>
    public static void Save(
        IReadOnlyDictionary<string, Tensor> tensors,
        IBufferWriter<byte> destination,
        IReadOnlyDictionary<string, string>? metadata = null,
        SaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using Stream stream = destination.AsStream();
        Save(tensors, stream, metadata, options);
    }

    /// <summary>Loads every tensor of a plain safetensors file or a container; container tensors are verified.</summary>
    /// <exception cref="Z4AiFormatException">The file is malformed.</exception>
    /// <exception cref="Z4AiIntegrityException">A tensor's bytes do not match their SHA-256.</exception>
    public static IReadOnlyDictionary<string, Tensor> LoadFile(string path)
    {
        using SafeTensorsReader reader = Open(path);
        return LoadAll(reader, CancellationToken.None);
    }

    /// <summary>Loads every tensor of a file on the thread pool; see <see cref="LoadFile"/>.</summary>
    public static Task<IReadOnlyDictionary<string, Tensor>> LoadFileAsync(string path, CancellationToken cancellationToken = default) =>
        Task.Run(
            () =>
            {
                using SafeTensorsReader reader = Open(path);
                return (IReadOnlyDictionary<string, Tensor>)LoadAll(reader, cancellationToken);
            },
            cancellationToken);

    /// <summary>Loads every tensor from bytes holding a plain safetensors file or a container.</summary>
    public static IReadOnlyDictionary<string, Tensor> Load(ReadOnlyMemory<byte> data)
    {
        using SafeTensorsReader reader = Open(data.AsStream(), leaveOpen: false);
        return LoadAll(reader, CancellationToken.None);
    }

    /// <summary>Loads every tensor from bytes, refusing a file that exceeds <paramref name="limits"/>.</summary>
    /// <exception cref="Z4AiFormatException">The bytes are malformed, or (<see cref="Z4AiErrorKind.LimitExceeded"/>) over a limit.</exception>
    public static IReadOnlyDictionary<string, Tensor> Load(ReadOnlyMemory<byte> data, ReadLimits limits)
    {
        using SafeTensorsReader reader = Open(data.AsStream(), limits);
        return LoadAll(reader, CancellationToken.None);
    }

    /// <summary>Loads every tensor from a seekable stream holding a plain safetensors file or a container.</summary>
    public static IReadOnlyDictionary<string, Tensor> Load(Stream source)
    {
        using SafeTensorsReader reader = Open(source, leaveOpen: true);
        return LoadAll(reader, CancellationToken.None);
    }

    /// <summary>
    /// Loads one tensor, reading only the header (or index) and that tensor's bytes; container tensors are verified.
    /// </summary>
    /// <exception cref="Z4AiTensorNotFoundException">The file has no tensor of that name.</exception>
    public static Tensor LoadTensor(string path, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        using SafeTensorsReader reader = Open(path);
        return reader.GetTensor(name);
    }

    /// <summary>Loads one tensor on the thread pool; see <see cref="LoadTensor"/>.</summary>
    public static Task<Tensor> LoadTensorAsync(string path, string name, CancellationToken cancellationToken = default) =>
        Task.Run(() => LoadTensor(path, name), cancellationToken);

    /// <summary>Opens a file for lazy reads (the equivalent of the reference's <c>safe_open</c>).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="Z4AiFormatException">The header or index is malformed.</exception>
    public static SafeTensorsReader Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new SafeTensorsReader(TensorFile.Open(path));
    }

    /// <summary>Opens a seekable stream for lazy reads.</summary>
    /// <param name="source">A readable, seekable stream holding a plain safetensors file or a container.</param>
    /// <param name="leaveOpen">Whether disposing the reader leaves <paramref name="source"/> open.</param>
    public static SafeTensorsReader Open(Stream source, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new SafeTensorsReader(TensorFile.Open(source, leaveOpen, displayName: null));
    }

    /// <summary>Opens a file for lazy reads, refusing one that exceeds <paramref name="limits"/> before allocating for it.</summary>
    /// <exception cref="Z4AiFormatException">The header or index is malformed, or (<see cref="Z4AiErrorKind.LimitExceeded"/>) over a limit.</exception>
    public static SafeTensorsReader Open(string path, ReadLimits limits)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(limits);
        return new SafeTensorsReader(TensorFile.Open(path, limits));
    }

    /// <summary>Opens a seekable stream for lazy reads, refusing a file that exceeds <paramref name="limits"/>.</summary>
    public static SafeTensorsReader Open(Stream source, ReadLimits limits, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(limits);
        return new SafeTensorsReader(TensorFile.Open(source, leaveOpen, displayName: null, limits));
    }

    /// <summary>Opens a file for lazy reads on the thread pool.</summary>
    public static Task<SafeTensorsReader> OpenAsync(string path, CancellationToken cancellationToken = default) =>
        Task.Run(() => Open(path), cancellationToken);

    private static void SaveFileCore(
        IReadOnlyDictionary<string, Tensor> tensors,
        string path,
        IReadOnlyDictionary<string, string>? metadata,
        SaveOptions? options,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= SaveOptions.Default;
        options.Validate();
        using AtomicFile file = AtomicFile.Create(path);
        TensorSetWriter.Write(tensors, metadata, options, file.Stream, cancellationToken);
        file.Commit();
    }

    private static Dictionary<string, Tensor> LoadAll(SafeTensorsReader reader, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, Tensor>(reader.Count, StringComparer.Ordinal);
        foreach (string name in reader.OffsetKeys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            result[name] = reader.GetTensor(name);
        }

        return result;
    }
}
