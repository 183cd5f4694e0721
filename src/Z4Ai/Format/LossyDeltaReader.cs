using System.Security.Cryptography;
using Z4Ai.Delta;
using Z4Ai.Integrity;
using Z4Ai.Internal;

namespace Z4Ai.Format;

/// <summary>Reads a lossy delta: its index without the base, and the reconstruction with it.</summary>
internal sealed class LossyDeltaReader : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;

    private LossyDeltaReader(Stream stream, bool leaveOpen, string? displayName)
    {
        _stream = stream;
        _leaveOpen = leaveOpen;
        FilePath = displayName;
        try
        {
            Index = LossyDeltaFormat.ReadIndex(stream);
        }
        catch (Z4AiFormatException ex) when (displayName is not null && ex.FilePath is null)
        {
            throw ex.WithFile(displayName);
        }
    }

    public LossyDeltaIndex Index { get; }

    public string? FilePath { get; }

    public static LossyDeltaReader Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.RandomAccess);
        try
        {
            return new LossyDeltaReader(stream, leaveOpen: false, path);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public static LossyDeltaReader Open(Stream stream, bool leaveOpen, string? displayName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek || !stream.CanRead)
        {
            throw new ArgumentException("the stream must be readable and seekable", nameof(stream));
        }

        return new LossyDeltaReader(stream, leaveOpen, displayName);
    }

    /// <summary>Describes the delta, hashing the whole file for the digest a certificate binds to.</summary>
    public LossyDeltaInfo GetInfo()
    {
        _stream.Position = 0;
        string sha = Convert.ToHexStringLower(SHA256.HashData(_stream));
        return BuildInfo(Index, FilePath, _stream.Length, sha);
    }

    public static LossyDeltaInfo BuildInfo(LossyDeltaIndex index, string? path, long length, string fileSha256)
    {
        LossySettings s = index.Settings;
        var settings = new LossyTierSettings(s.Tier, s.GroupSize, s.OutlierPpm, s.SparsePpm, s.DropAndRescale, s.RefineScales, s.Seed, s.MinElements);
        var tensors = index.Entries.Select(e => new LossyTensorInfo(
            e.Name,
            e.DType,
            e.Shape,
            e.Mode,
            e.RawLength,
            e.RecordLength,
            e.Error.RelativeL2,
            e.Error.RelativeL2OfDelta,
            e.Error.MaxAbs,
            e.TargetDigest.ToString(),
            e.BaseDigest?.ToString(),
            e.ReconstructedDigest.ToString())).ToArray();
        return new LossyDeltaInfo(
            path,
            length,
            fileSha256,
            LossyDeltaFormat.Version,
            settings,
            index.BaseDigest.ToString(),
            index.TargetDigest.ToString(),
            index.ReconstructedDigest.ToString(),
            tensors);
    }

    /// <summary>Rebuilds the target (exact tensors) and its approximation (lossy ones) into <paramref name="outputPath"/>.</summary>
    public void Reconstruct(string basePath, string outputPath, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        using TensorFile @base = TensorFile.Open(basePath);
        CheckBaseShapes(@base);
        using var output = AtomicFile.Create(outputPath);
        Reconstruct(@base, output.Stream, progress, ct);
        output.Commit();
    }

    /// <summary>Writes the reconstructed safetensors file to <paramref name="output"/>, tensor by tensor.</summary>
    public void Reconstruct(TensorFile @base, Stream output, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        CheckBaseShapes(@base);
        output.Write(Index.TargetHeader);
        long total = Index.Entries.Sum(e => e.RawLength);
        long done = 0;
        foreach (LossyDeltaEntry e in Index.Entries)
        {
            ct.ThrowIfCancellationRequested();
            byte[] baseBytes = [];
            if (e.BaseDigest is { } expected)
            {
                baseBytes = @base.ReadTensor(e.Name);
                var actual = Sha256Digest.Compute(baseBytes);
                if (actual != expected)
                {
                    throw new Z4AiFormatException(
                        Z4AiErrorKind.ReferenceMismatch,
                        $"the base tensor has SHA-256 {actual}, but the delta was made against {expected}; this is not the base the delta was made from",
                        @base.FilePath,
                        e.Name);
                }
            }

            byte[] reconstructed = Decode(e, baseBytes);
            output.Write(reconstructed);
            done += e.RawLength;
            progress?.Report(new ProgressInfo("reconstruct", e.Name, done, total));
        }
    }

    /// <summary>Decodes one record against its (already verified) base bytes and checks the result's SHA-256.</summary>
    public byte[] Decode(LossyDeltaEntry entry, ReadOnlySpan<byte> baseBytes)
    {
        byte[] record = new byte[entry.RecordLength];
        LossyDeltaFormat.ReadExactly(_stream, entry.RecordOffset, record);
        byte[] result;
        try
        {
            result = LossyTensorCodec.Decode(record, entry.Mode, entry.DType, entry.Shape, baseBytes);
        }
        catch (Z4AiFormatException ex) when (ex.TensorName is null)
        {
            throw new Z4AiFormatException(ex.Kind, ex.Detail, FilePath, entry.Name, ex.Offset, ex);
        }
        catch (Z4AiIntegrityException ex)
        {
            throw new Z4AiIntegrityException(entry.Name, ex.ExpectedDigest, ex.ActualDigest, FilePath);
        }

        if (result.Length != entry.RawLength)
        {
            ThrowHelper.Format(Z4AiErrorKind.CorruptFrame, $"the record rebuilds {result.Length} bytes, the index says {entry.RawLength}", entry.Name);
        }

        var digest = Sha256Digest.Compute(result);
        if (digest != entry.ReconstructedDigest)
        {
            throw new Z4AiIntegrityException(entry.Name, entry.ReconstructedDigest.ToString(), digest.ToString(), FilePath);
        }

        return result;
    }

    public void Dispose()
    {
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    /// <summary>Every tensor coded against the base must exist there with the same dtype and shape: checked before any output.</summary>
    private void CheckBaseShapes(TensorFile @base)
    {
        foreach (LossyDeltaEntry e in Index.Entries)
        {
            if (e.BaseDigest is null)
            {
                continue;
            }

            if (!@base.TryGetInfo(e.Name, out TensorInfo info))
            {
                throw new Z4AiFormatException(
                    Z4AiErrorKind.ReferenceMismatch, "the delta was made against a base with this tensor, but the base given has none", @base.FilePath, e.Name);
            }

            if (info.DType != e.DType || !info.Shape.SequenceEqual(e.Shape))
            {
                throw new Z4AiFormatException(
                    Z4AiErrorKind.ReferenceMismatch,
                    $"the base tensor is {info.DType.GetName()}[{string.Join(",", info.Shape)}], the delta needs {e.DType.GetName()}[{string.Join(",", e.Shape)}]",
                    @base.FilePath,
                    e.Name);
            }
        }
    }
}
