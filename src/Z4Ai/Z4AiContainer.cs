using System.Diagnostics;
using Z4Ai.Codecs;
using Z4Ai.Format;

namespace Z4Ai;

/// <summary>
/// File-level operations on <c>.z4ai</c> containers: compress a safetensors file, restore it byte for byte,
/// inspect and verify. Memory stays bounded by a chunk per worker, whatever the model size.
/// </summary>
public static class Z4AiContainer
{
    /// <summary>The conventional file extension, with the dot.</summary>
    public const string FileExtension = ".z4ai";

    /// <summary>Whether <paramref name="path"/> starts with the container magic.</summary>
    public static bool IsContainer(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream stream = File.OpenRead(path);
        Span<byte> head = stackalloc byte[TensorFile.SniffLength];
        int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return ContainerReader.HasMagic(head[..n]);
    }

    /// <summary>
    /// Compresses a plain safetensors file (or re-packs a container) into <paramref name="outputPath"/>, written
    /// under a temporary name and renamed into place, so a failed or cancelled run leaves no partial output.
    /// </summary>
    public static CompressionReport Compress(
        string inputPath,
        string outputPath,
        SaveOptions? options = null,
        IProgress<ProgressInfo>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(inputPath);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        using FileStream input = new(inputPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        using AtomicFile output = AtomicFile.Create(outputPath);
        CompressionReport report;
        try
        {
            report = Compress(input, output.Stream, options, progress, cancellationToken);
        }
        catch (Z4AiFormatException ex) when (ex.FilePath is null)
        {
            throw ex.WithFile(inputPath);
        }

        output.Commit();
        return report;
    }

    /// <summary>
    /// Compresses a seekable stream holding a plain safetensors file (or a container) into <paramref name="output"/>,
    /// which need not be seekable.
    /// </summary>
    public static CompressionReport Compress(
        Stream input,
        Stream output,
        SaveOptions? options = null,
        IProgress<ProgressInfo>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        options ??= SaveOptions.Default;
        options.Validate();
        var clock = Stopwatch.StartNew();
        long outputStart = output.CanSeek ? output.Position : 0;
        var counting = new CountingStream(output);
        var reports = new List<TensorReport>();
        using (TensorFile file = TensorFile.Open(input, leaveOpen: true, displayName: null))
        using (var writer = new ContainerWriter(counting, TensorSetWriter.ToContainerOptions(options)))
        {
            long total = file.Tensors.Sum(t => t.ByteLength);
            long done = 0;
            foreach (TensorInfo info in file.Tensors)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ContainerTensorStats stats;
                if (file is PlainTensorFile plain)
                {
                    plain.Header.TryGetTensor(info.Name, out SafeTensorsEntry? entry);
                    input.Position = plain.Header.DataOffset + entry!.Begin;
                    stats = writer.WriteTensor(info.Name, info.DType, info.Shape.ToArray(), input, info.ByteLength, cancellationToken);
                }
                else
                {
                    stats = writer.WriteTensor(info.Name, info.DType, info.Shape.ToArray(), file.ReadTensor(info.Name));
                }

                reports.Add(ToReport(info, stats));
                done += info.ByteLength;
                progress?.Report(new ProgressInfo("compress", info.Name, done, total));
            }

            byte[]? originalHeader = file switch
            {
                PlainTensorFile => ReadPrefix(input, ((PlainTensorFile)file).Header.DataOffset),
                ContainerTensorFile c => c.Reader.OriginalHeader,
                _ => null,
            };
            writer.Complete(originalHeader, file.Metadata);
        }

        output.Flush();
        long inputBytes = input.Length;
        return new CompressionReport(reports, inputBytes, output.CanSeek ? output.Position - outputStart : counting.BytesWritten, clock.Elapsed);
    }

    /// <summary>
    /// Restores the original safetensors file, byte for byte, verifying every tensor. The output is written under a
    /// temporary name and renamed into place only when every tensor verified.
    /// </summary>
    /// <exception cref="Z4AiIntegrityException">A tensor failed verification; no output is left.</exception>
    public static void Decompress(
        string inputPath,
        string outputPath,
        IProgress<ProgressInfo>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(inputPath);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        using TensorFile file = TensorFile.Open(inputPath);
        using AtomicFile output = AtomicFile.Create(outputPath);
        Restore(file, output.Stream, progress, cancellationToken);
        output.Commit();
    }

    /// <summary>Restores the original safetensors bytes of a container held in a seekable stream.</summary>
    public static void Decompress(
        Stream input,
        Stream output,
        IProgress<ProgressInfo>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        using TensorFile file = TensorFile.Open(input, leaveOpen: true, displayName: null);
        Restore(file, output, progress, cancellationToken);
    }

    /// <summary>Describes a container: every tensor's dtype, shape, sizes, codec and digest.</summary>
    public static ContainerInfo Inspect(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using ContainerReader reader = ContainerReader.Open(path);
        var reports = new List<TensorReport>(reader.Tensors.Count);
        foreach (ContainerEntry e in reader.Tensors)
        {
            string codec = string.Join("/", e.Chunks.Select(c => c.Codec).Distinct().Order().Select(CodecNames.Get));
            string? duplicateOf = e.DuplicateOf is int d ? reader.Tensors[d].Name : null;
            reports.Add(new TensorReport(
                e.Name,
                e.DType,
                e.Shape,
                e.RawLength,
                duplicateOf is null ? e.StoredLength : 0,
                codec.Length == 0 ? "empty" : codec,
                duplicateOf,
                Convert.ToHexStringLower(e.Sha256)));
        }

        return new ContainerInfo(
            path, reader.FileLength, reader.FormatVersion, reader.ChunkSize, reports, reader.Metadata, reader.OriginalHeader is not null);
    }

    /// <summary>
    /// Checks every tensor of a container against its SHA-256 (never throws for a failed tensor: the report names
    /// them). A plain safetensors file has no digests: its structure is validated and the report says so.
    /// </summary>
    /// <exception cref="Z4AiFormatException">The header or index itself is unreadable.</exception>
    public static VerifyReport Verify(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using TensorFile file = TensorFile.Open(path);
        if (file is ContainerTensorFile container)
        {
            IReadOnlyList<string> failed = container.Reader.Verify(cancellationToken);
            return new VerifyReport(StorageFormat.Z4Ai, file.Tensors.Count, failed, DigestsAvailable: true);
        }

        return new VerifyReport(StorageFormat.SafeTensors, file.Tensors.Count, [], DigestsAvailable: false);
    }

    private static void Restore(TensorFile file, Stream output, IProgress<ProgressInfo>? progress, CancellationToken cancellationToken)
    {
        if (file is not ContainerTensorFile container)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidContainer, "this is a plain safetensors file already, not a .z4ai container", file.FilePath);
        }

        long total = file.Tensors.Sum(t => t.ByteLength);
        container.Reader.RestoreSafeTensors(output, cancellationToken);
        progress?.Report(new ProgressInfo("decompress", null, total, total));
    }

    private static TensorReport ToReport(TensorInfo info, ContainerTensorStats stats)
    {
        string sha = Convert.ToHexStringLower(stats.Sha256);
        string? duplicateOf = stats.DuplicateOf;
        string codec = stats.Codecs.Count == 0 ? "empty" : string.Join("/", stats.Codecs.Distinct().Order(StringComparer.Ordinal));
        return new TensorReport(info.Name, info.DType, info.Shape, info.ByteLength, stats.Deduplicated ? 0 : stats.StoredLength, codec, duplicateOf, sha);
    }

    private static byte[] ReadPrefix(Stream input, long length)
    {
        var bytes = new byte[length];
        input.Position = 0;
        input.ReadExactly(bytes);
        return bytes;
    }
}
