using System.Buffers;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Entropy;
using Z4Ai.Internal;

namespace Z4Ai.Delta;

/// <summary>
/// Encodes one target tensor against its base tensor in a lossy tier, and rebuilds it. The encoder decodes its own
/// record to produce the reconstruction, so what is measured and hashed is exactly what every decoder will produce.
/// </summary>
/// <remarks>
/// Record layouts (after the index says the mode; blocks as in <see cref="LossySymbols"/>):
/// <code>
/// Lossless  a buffer-delta frame (Z4AD) against the base tensor, or against an empty reference when there is none
/// Int8      varint group size, float block (rows × groups-per-row scales), symbol block (n symbols, 8 bits)
/// Int4      varint group size, varint outlier count k, [index block, frame of the k target elements' bytes],
///           float block (scales), symbol block (n symbols, 4 bits)
/// Sparse    varint kept count k, [index block], float block (one scale per row), symbol block (k symbols, 8 bits)
/// OneBit    float block (one scale per row), symbol block (n symbols, 1 bit: 0 is +scale, 1 is −scale)
/// </code>
/// Levels are zigzagged; an element with level 0 (or not kept) keeps the base's bytes exactly.
/// </remarks>
internal static class LossyTensorCodec
{
    /// <summary>The chunk size of lossless records (the buffer-delta default).</summary>
    public const int LosslessChunkSize = DeltaOptions.DefaultChunkSize;

    /// <summary>The decision of which mode a tensor is stored in.</summary>
    public static LossyTier ChooseMode(
        LossyTier requested, bool explicitOverride, DType dtype, IReadOnlyList<long> shape, bool hasBase, int minElements)
    {
        if (requested == LossyTier.Lossless || !hasBase || !LossyElements.IsSupported(dtype) || shape.Count == 0)
        {
            return LossyTier.Lossless;
        }

        long n = 1;
        foreach (long d in shape)
        {
            n *= d;
        }

        if (n == 0 || n > EntropyCoder.MaxSymbols || shape[^1] == 0)
        {
            return LossyTier.Lossless;
        }

        // Norms and biases (rank 1) and small tensors stay exact unless an override names them.
        if (!explicitOverride && (shape.Count < 2 || n < minElements))
        {
            return LossyTier.Lossless;
        }

        return requested;
    }

    /// <summary>
    /// Encodes the target in <paramref name="mode"/> (falling back to lossless when the delta is not finite),
    /// appends the record to <paramref name="output"/>, and returns the mode used with the reconstructed bytes.
    /// </summary>
    /// <param name="name">The tensor name (seeds drop-and-rescale).</param>
    /// <param name="mode">From <see cref="ChooseMode"/>.</param>
    /// <param name="dtype">The dtype of both tensors.</param>
    /// <param name="shape">The shape of both tensors.</param>
    /// <param name="target">The target's bytes.</param>
    /// <param name="base">The base's bytes (empty when lossless without a base).</param>
    /// <param name="settings">The model-wide settings.</param>
    /// <param name="moments">Input moments for refined 1-bit scales, or empty.</param>
    /// <param name="output">Receives the record.</param>
    public static (LossyTier Mode, byte[] Reconstructed) Encode(
        string name,
        LossyTier mode,
        DType dtype,
        IReadOnlyList<long> shape,
        ReadOnlySpan<byte> target,
        ReadOnlySpan<byte> @base,
        LossySettings settings,
        ReadOnlySpan<float> moments,
        IBufferWriter<byte> output)
    {
        if (mode != LossyTier.Lossless)
        {
            using var record = new ArrayPoolBufferWriter<byte>(Math.Max(256, target.Length / 2));
            if (TryEncodeLossy(name, mode, dtype, shape, target, @base, settings, moments, record))
            {
                byte[] reconstructed = Decode(record.WrittenSpan, mode, dtype, shape, @base);
                output.Write(record.WrittenSpan);
                return (mode, reconstructed);
            }
        }

        BufferDelta.Encode(target, @base, dtype, settings.Effort, LosslessChunkSize, output);
        return (LossyTier.Lossless, target.ToArray());
    }

    /// <summary>
    /// Rebuilds a tensor from its record and base. Lossless records are verified against their own SHA-256 here;
    /// lossy ones by the caller against the recorded digest of the reconstruction.
    /// </summary>
    public static byte[] Decode(ReadOnlySpan<byte> record, LossyTier mode, DType dtype, IReadOnlyList<long> shape, ReadOnlySpan<byte> @base)
    {
        if (mode == LossyTier.Lossless)
        {
            return BufferDelta.Decode(record, @base);
        }

        (int n, int cols) = Dimensions(shape, dtype);
        if (@base.Length != (long)n * dtype.ElementSize())
        {
            ThrowHelper.Format(Z4AiErrorKind.ReferenceMismatch, $"the base tensor has {@base.Length} bytes, the record needs {(long)n * dtype.ElementSize()}");
        }

        int rows = n / cols;
        byte[] result = @base.ToArray();
        var reader = new SpanReader(record);
        switch (mode)
        {
            case LossyTier.Int8:
            case LossyTier.Int4:
                DecodeGroups(ref reader, mode, dtype, n, rows, cols, @base, result);
                break;
            case LossyTier.Sparse:
            {
                int k = reader.ReadVarInt32(n);
                int[] indices = new int[k];
                if (k > 0)
                {
                    LossySymbols.ReadIndices(ref reader, n, indices);
                }

                float[] scales = new float[rows];
                LossySymbols.ReadScales(ref reader, scales);
                using SpanOwner<byte> symbols = SpanOwner<byte>.Allocate(k);
                LossySymbols.ReadSymbols(ref reader, 8, 0, symbols.Span);
                CheckLevels(symbols.Span, LossyQuantizer.Int8Max);
                LossyQuantizer.ApplySparse(@base, dtype, indices, symbols.Span, scales, cols, result);
                break;
            }

            case LossyTier.OneBit:
            {
                float[] scales = new float[rows];
                LossySymbols.ReadScales(ref reader, scales);
                using SpanOwner<byte> symbols = SpanOwner<byte>.Allocate(n);
                LossySymbols.ReadSymbols(ref reader, 1, cols, symbols.Span);
                LossyQuantizer.ApplySigns(@base, dtype, symbols.Span, scales, cols, result);
                break;
            }

            default:
                ThrowHelper.CorruptFrame($"unknown record mode {(byte)mode}");
                break;
        }

        if (reader.Remaining != 0)
        {
            ThrowHelper.CorruptFrame($"the record has {reader.Remaining} bytes after its last block");
        }

        return result;
    }

    /// <summary>The element count and row length of a lossy-coded shape (validated by the caller's index).</summary>
    public static (int Count, int Cols) Dimensions(IReadOnlyList<long> shape, DType dtype)
    {
        long n = 1;
        foreach (long d in shape)
        {
            n *= d;
        }

        if (!LossyElements.IsSupported(dtype) || shape.Count == 0 || n <= 0 || n > EntropyCoder.MaxSymbols || shape[^1] <= 0)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"a {dtype.GetName()}[{string.Join(",", shape)}] tensor cannot have a lossy record");
        }

        return ((int)n, (int)shape[^1]);
    }

    private static bool TryEncodeLossy(
        string name,
        LossyTier mode,
        DType dtype,
        IReadOnlyList<long> shape,
        ReadOnlySpan<byte> target,
        ReadOnlySpan<byte> @base,
        LossySettings settings,
        ReadOnlySpan<float> moments,
        ArrayPoolBufferWriter<byte> output)
    {
        (int n, int cols) = Dimensions(shape, dtype);
        int rows = n / cols;
        float[] delta = new float[n];
        {
            float[] t = new float[n];
            float[] b = new float[n];
            LossyElements.ToFloat(target, dtype, t);
            LossyElements.ToFloat(@base, dtype, b);
            if (!LossyQuantizer.ComputeDelta(t, b, delta))
            {
                // NaN or infinity in the target or the difference: nothing sensible to quantize.
                return false;
            }
        }

        CompressionEffort effort = settings.Effort;
        switch (mode)
        {
            case LossyTier.Int8:
            case LossyTier.Int4:
            {
                int qmax = mode == LossyTier.Int8 ? LossyQuantizer.Int8Max : LossyQuantizer.Int4Max;
                int groupSize = settings.GroupSize <= 0 ? cols : Math.Min(settings.GroupSize, cols);
                VarInt.Write(output, (ulong)groupSize);
                bool[] exclude = [];
                if (mode == LossyTier.Int4)
                {
                    int k = (int)((long)n * settings.OutlierPpm / LossySettings.Million);
                    int[] outliers = LossyQuantizer.SelectTopK(delta, k);
                    VarInt.Write(output, (ulong)outliers.Length);
                    if (outliers.Length > 0)
                    {
                        exclude = new bool[n];
                        int size = dtype.ElementSize();
                        byte[] exact = new byte[outliers.Length * size];
                        for (int j = 0; j < outliers.Length; j++)
                        {
                            exclude[outliers[j]] = true;
                            target.Slice(outliers[j] * size, size).CopyTo(exact.AsSpan(j * size));
                        }

                        LossySymbols.WriteIndices(outliers, effort, output);
                        LossySymbols.WriteBytesFrame(exact, dtype, effort, output);
                    }
                }

                float[] scales = new float[rows * LossyQuantizer.GroupsPerRow(cols, groupSize)];
                byte[] symbols = new byte[n];
                LossyQuantizer.QuantizeGroups(delta, cols, groupSize, qmax, exclude, scales, symbols);
                LossySymbols.WriteFloats(scales, effort, output);
                LossySymbols.WriteSymbols(symbols, mode == LossyTier.Int8 ? 8 : 4, cols, effort, output);
                return true;
            }

            case LossyTier.Sparse:
            {
                int[] indices;
                float[] values;
                if (settings.DropAndRescale)
                {
                    indices = LossyQuantizer.SelectRandom(n, settings.SparsePpm, settings.Seed ^ LossyQuantizer.HashName(name));
                    float rescale = settings.SparsePpm == 0 ? 0 : (float)((double)LossySettings.Million / settings.SparsePpm);
                    values = new float[indices.Length];
                    for (int j = 0; j < indices.Length; j++)
                    {
                        values[j] = delta[indices[j]] * rescale;
                    }
                }
                else
                {
                    indices = LossyQuantizer.SelectTopK(delta, (int)((long)n * settings.SparsePpm / LossySettings.Million));
                    values = new float[indices.Length];
                    for (int j = 0; j < indices.Length; j++)
                    {
                        values[j] = delta[indices[j]];
                    }
                }

                if (settings.RefineScales)
                {
                    LossyQuantizer.RefineSparse(delta, indices, values, cols, moments);
                }

                VarInt.Write(output, (ulong)indices.Length);
                if (indices.Length > 0)
                {
                    LossySymbols.WriteIndices(indices, effort, output);
                }

                float[] scales = new float[rows];
                byte[] symbols = new byte[indices.Length];
                LossyQuantizer.QuantizeSparse(values, indices, cols, scales, symbols);
                LossySymbols.WriteFloats(scales, effort, output);
                LossySymbols.WriteSymbols(symbols, 8, 0, effort, output);
                return true;
            }

            case LossyTier.OneBit:
            {
                float[] scales = new float[rows];
                byte[] symbols = new byte[n];
                LossyQuantizer.QuantizeSigns(delta, cols, settings.RefineScales ? moments : default, scales, symbols);
                LossySymbols.WriteFloats(scales, effort, output);
                LossySymbols.WriteSymbols(symbols, 1, cols, effort, output);
                return true;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown lossy tier");
        }
    }

    private static void DecodeGroups(ref SpanReader reader, LossyTier mode, DType dtype, int n, int rows, int cols, ReadOnlySpan<byte> @base, byte[] result)
    {
        int groupSize = reader.ReadVarInt32(cols);
        if (groupSize == 0)
        {
            ThrowHelper.CorruptFrame("group size 0");
        }

        int[] outliers = [];
        byte[] exact = [];
        int size = dtype.ElementSize();
        if (mode == LossyTier.Int4)
        {
            int k = reader.ReadVarInt32(n);
            if (k > 0)
            {
                outliers = new int[k];
                LossySymbols.ReadIndices(ref reader, n, outliers);
                exact = new byte[k * size];
                LossySymbols.ReadBytesFrame(ref reader, exact);
            }
        }

        float[] scales = new float[rows * LossyQuantizer.GroupsPerRow(cols, groupSize)];
        LossySymbols.ReadScales(ref reader, scales);
        using SpanOwner<byte> symbols = SpanOwner<byte>.Allocate(n);
        int qmax = mode == LossyTier.Int8 ? LossyQuantizer.Int8Max : LossyQuantizer.Int4Max;
        LossySymbols.ReadSymbols(ref reader, mode == LossyTier.Int8 ? 8 : 4, cols, symbols.Span);
        CheckLevels(symbols.Span, qmax);
        LossyQuantizer.ApplyGroups(@base, dtype, symbols.Span, scales, cols, groupSize, result);
        for (int j = 0; j < outliers.Length; j++)
        {
            exact.AsSpan(j * size, size).CopyTo(result.AsSpan(outliers[j] * size));
        }
    }

    private static void CheckLevels(ReadOnlySpan<byte> symbols, int qmax)
    {
        int index = symbols.IndexOfAnyInRange((byte)((2 * qmax) + 1), byte.MaxValue);
        if (index >= 0)
        {
            ThrowHelper.CorruptFrame($"symbol {symbols[index]} at {index} is outside the tier's levels ±{qmax}");
        }
    }
}
