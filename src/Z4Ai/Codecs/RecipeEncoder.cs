using System.Buffers;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Entropy;
using Z4Ai.Internal;
using Z4Ai.Planes;
using Z4Ai.Transforms;

namespace Z4Ai.Codecs;

/// <summary>
/// Builds the recipe tree for one chunk: analyses each stream cheaply, encodes the few candidates the analysis
/// leaves, and keeps the smallest. Every decision depends only on the bytes and the settings (integer estimates,
/// no timing), so the same input and effort always give the same frame.
/// </summary>
/// <remarks>
/// <para>Typed streams (<see cref="EncodeTyped"/>) try, in order: dead low bits (taken outright when the narrow
/// stream has a dtype of its own), a zero mask (when at least 1/16 of the elements are zero), a palette (when a
/// sample shows few distinct values), and the dense split (float fields, or byte planes for other multi-byte
/// dtypes; F16 picks whichever of the two has the smaller order-0 bound), plus raw zstd when a sample says
/// LZ-style repeats pay. Symbol streams (<see cref="EncodeSymbols"/>) pick among stored, rANS order 0/1, context
/// mixing and zstd; see <see cref="EffortProfile"/> for what each effort allows.</para>
/// <para>Children are encoded into pooled buffers first (their length prefixes them), then copied into the
/// parent's output.</para>
/// </remarks>
internal sealed partial class RecipeEncoder
{
    /// <summary>Streams shorter than this are stored: no coder's header pays for itself.</summary>
    internal const int MinCodedLength = 32;

    /// <summary>Rows shorter than this are not given classes: a class id per few dozen symbols costs more than a
    /// better-fitting table saves.</summary>
    internal const int MinClassRowLength = 64;

    /// <summary>Elements sampled to decide whether a palette is worth planning.</summary>
    internal const int PaletteSampleElements = 4096;

    /// <summary>Streams this short always try zstd at the effort's level (codebooks, tables): it costs next to nothing.</summary>
    internal const int TinyStreamLength = 4096;

    /// <summary>Bytes of a stream compressed with fast zstd to decide whether full zstd is worth running.</summary>
    internal const int ZstdSampleBytes = 64 * 1024;

    private readonly EffortProfile _profile;

    public RecipeEncoder(CompressionEffort effort)
        : this(EffortProfile.For(effort))
    {
    }

    public RecipeEncoder(EffortProfile profile) => _profile = profile;

    /// <summary>
    /// Appends a node encoding <paramref name="data"/>, elements of <paramref name="dtype"/> (rows of
    /// <paramref name="rowLength"/> elements when known, else 0), and returns the bytes written.
    /// </summary>
    public int EncodeTyped(ReadOnlySpan<byte> data, DType dtype, int rowLength, int depth, IBufferWriter<byte> output)
    {
        int size = dtype.ElementSize();
        if (size == 1 && data.Length >= 8 * MinCodedLength && depth < RecipeDecoder.MaxDepth - 2 && BoolPack.TryPlan(data, dtype, out BoolPackPlan flags))
        {
            // Masks and flags: eight elements per symbol decode eight times faster and code to the same size.
            return EncodeBoolPack(data, dtype, flags, output);
        }

        if (size <= 1 || data.Length % size != 0 || data.Length / size < MinCodedLength || depth >= RecipeDecoder.MaxDepth - 2)
        {
            return EncodeSymbols(data, 8, rowLength, output, byteIntegers: dtype is DType.U8 or DType.I8);
        }

        int count = data.Length / size;
        if (rowLength > 0 && count % rowLength != 0)
        {
            rowLength = 0;
        }

        using var best = new Candidate();

        // Dead bits: exact and byte-aligned, so when the narrow stream is itself a dtype it is always the way in.
        if (DeadBits.TryPlan(data, dtype, out DeadBitsPlan deadBits))
        {
            using var deadBitsOutput = new ArrayPoolBufferWriter<byte>(deadBits.NarrowLength + 64);
            EncodeDeadBits(data, dtype, deadBits, rowLength, depth, deadBitsOutput);
            if (deadBits.NarrowDType is not null)
            {
                output.Write(deadBitsOutput.WrittenSpan);
                return deadBitsOutput.WrittenCount;
            }

            best.Offer(deadBitsOutput.WrittenSpan);
        }

        bool decided = false;
        bool paletteTried = false;
        (int negativeZeros, int zeros) = NegativeZeros.Count(data, size);
        if (zeros * 16L >= count && ZeroMask.TryPlan(data, dtype, out ZeroMaskPlan zeroMask))
        {
            using var zeroOutput = new ArrayPoolBufferWriter<byte>((data.Length / 2) + 64);
            EncodeZeroMask(data, dtype, zeroMask, depth, zeroOutput);
            best.Offer(zeroOutput.WrittenSpan);

            // With nearly everything zero the dense paths cannot compete; skip them.
            decided = (long)zeroMask.NonZeroCount * 16 <= count;
        }

        // -0.0 left by rounding small negative weights to zero breaks exact integer-code palettes; take the signs
        // out and try the palette on what remains.
        if (!decided && negativeZeros > 0 && RecipeDecoder.HasSignedZero(dtype))
        {
            using var negativeOutput = new ArrayPoolBufferWriter<byte>((data.Length / 2) + 64);
            if (TryEncodeNegativeZero(data, dtype, rowLength, depth, negativeOutput))
            {
                paletteTried = true;
                best.Offer(negativeOutput.WrittenSpan);
                decided = _profile.TrustTransforms && (long)negativeOutput.WrittenCount * 3 <= data.Length;
            }
        }

        if (!decided && !paletteTried && PaletteMayPay(data, dtype, size, count, rowLength))
        {
            using var paletteOutput = new ArrayPoolBufferWriter<byte>((data.Length / 2) + 64);
            if (TryEncodePalette(data, dtype, rowLength, depth, paletteOutput))
            {
                best.Offer(paletteOutput.WrittenSpan);

                // A palette at a third of the input or less leaves nothing the dense split could win back.
                decided = _profile.TrustTransforms && (long)paletteOutput.WrittenCount * 3 <= data.Length;
            }
        }

        if (!decided)
        {
            using var dense = new ArrayPoolBufferWriter<byte>(data.Length + 64);
            EncodeDense(data, dtype, rowLength, depth, dense);
            best.Offer(dense.WrittenSpan);
            if (IntPack.IsApplicable(dtype))
            {
                if (IntPack.TryPlan(data, dtype, out IntPackPlan intPack))
                {
                    dense.Clear();
                    EncodeIntPack(data, dtype, intPack, depth, dense);
                    best.Offer(dense.WrittenSpan);
                }

                dense.Clear();
                EncodeDelta(data, size, depth, dense);
                best.Offer(dense.WrittenSpan);
            }
        }

        // LZ repeats (tiled or repeated rows, lookup tables) that no split exposes: zstd over the raw bytes.
        if (ShouldTryZstd(data, best.Length, slackPercent: 5))
        {
            using var zstd = new ArrayPoolBufferWriter<byte>(ZstdBackend.GetMaxCompressedLength(data.Length) + 1);
            WriteZstd(data, zstd);
            best.Offer(zstd.WrittenSpan);
        }

        if (!best.HasValue || best.Length > data.Length + 1)
        {
            return WriteStored(data, output);
        }

        output.Write(best.Span);
        return best.Length;
    }

    /// <summary>
    /// Appends a leaf node for a stream of symbols below 2^<paramref name="alphabetBits"/> and returns the bytes
    /// written. <paramref name="rowLength"/> (0 when unknown) feeds the context-mixing model.
    /// <paramref name="byteIntegers"/> marks the raw bytes of a U8 or I8 tensor (quantised weights), on which the
    /// archival model is also tried where the profile allows it (<see cref="EffortProfile.UseArchiveModelOnBytes"/>).
    /// <paramref name="classRowLength"/> (0 for none) cuts the stream into rows whose distributions may differ
    /// (palette indices: the groups, or the tensor's rows): the row-class coder is then also tried, with at most
    /// <paramref name="maxRowClasses"/> classes when that is positive and below the profile's own limit.
    /// </summary>
    public int EncodeSymbols(ReadOnlySpan<byte> data, int alphabetBits, int rowLength, IBufferWriter<byte> output, bool byteIntegers = false, int classRowLength = 0, int maxRowClasses = 0)
    {
        int n = data.Length;
        if (n < MinCodedLength)
        {
            return WriteStored(data, output);
        }

        Span<uint> counts = stackalloc uint[256];
        RansCodec.CountOrder0(data, counts);
        int maxSymbol = counts.LastIndexOfAnyExcept(0u);

        // The caller's alphabet is a bound; the symbols present decide the table size.
        alphabetBits = Math.Max(1, BitPacking.BitsFor((ulong)maxSymbol));
        rowLength = rowLength > 0 && rowLength < n ? rowLength : 0;

        // The cheapest answer first: stored, then order 0, each better choice replacing it only when it saves
        // enough to be worth its slower decode.
        LeafChoice choice = LeafChoice.Stored;
        long bestSize = n + 1;
        RansModel order0 = RansModel.BuildOrder0(counts[..(1 << alphabetBits)], alphabetBits);
        long order0Size = order0.EstimatedBytes + 3;
        RansModel? chosenModel = null;
        if (Saves(order0Size, bestSize, _profile.EntropyGainPercent))
        {
            choice = LeafChoice.Rans;
            bestSize = order0Size;
            chosenModel = order0;
        }

        if (_profile.AllowOrder1 && n >= 1024 && choice == LeafChoice.Rans && HasManySymbols(counts))
        {
            RansModel order1 = RansCodec.BuildModel(data, order1: true, alphabetBits);
            long order1Size = order1.EstimatedBytes + 3;
            if (Saves(order1Size, bestSize, _profile.Order1GainPercent))
            {
                bestSize = order1Size;
                chosenModel = order1;
            }
        }

        // Any saving is taken: with few classes row classes decode nearly as fast as order 0, and a profile that must
        // decode fast caps the classes, since each one is another decode table and slows the decode.
        RowClassModel? rowClasses = null;
        if (_profile.AllowRowClasses && choice == LeafChoice.Rans && classRowLength >= MinClassRowLength && n / classRowLength >= RowClassModel.MinClasses)
        {
            rowClasses = RowClassModel.Build(data, alphabetBits, classRowLength, maxRowClasses > 0 ? Math.Min(maxRowClasses, _profile.MaxRowClasses) : _profile.MaxRowClasses);
            long rowClassSize = rowClasses is null ? long.MaxValue : rowClasses.EstimatedBytes + 3 + VarInt.GetLength((ulong)classRowLength);
            if (rowClassSize < bestSize)
            {
                bestSize = rowClassSize;
                chosenModel = null;
            }
            else
            {
                rowClasses = null;
            }
        }

        using var trial = new ArrayPoolBufferWriter<byte>(Math.Max(256, (int)Math.Min(bestSize + 64, n + 64)));
        byte[]? kept = null;
        int keptLength = 0;
        try
        {
            if (_profile.UseContextMixing(n) && choice == LeafChoice.Rans)
            {
                WriteEntropyHeader(EntropyMethod.ContextMixing, alphabetBits, rowLength, trial);
                EntropyCoder.Encode(data, EntropyMethod.ContextMixing, alphabetBits, rowLength, trial);
                if (Saves(trial.WrittenCount, bestSize, _profile.ContextMixingGainPercent))
                {
                    choice = LeafChoice.Kept;
                    bestSize = trial.WrittenCount;
                    kept = ArrayPool<byte>.Shared.Rent(trial.WrittenCount);
                    trial.WrittenSpan.CopyTo(kept);
                    keptLength = trial.WrittenCount;
                }
            }

            if (ShouldTryZstd(data, bestSize, slackPercent: -3))
            {
                trial.Clear();
                WriteZstd(data, trial);
                if (trial.WrittenCount < bestSize)
                {
                    choice = LeafChoice.Kept;
                    bestSize = trial.WrittenCount;
                    if (kept is not null)
                    {
                        ArrayPool<byte>.Shared.Return(kept);
                    }

                    kept = ArrayPool<byte>.Shared.Rent(trial.WrittenCount);
                    trial.WrittenSpan.CopyTo(kept);
                    keptLength = trial.WrittenCount;
                }
            }

            // On byte tensors the model is for entropy-bound codes (quantised weights); where a coder already reached
            // 4:1 (repeats, tables) at most a quarter of the input is left to win, not worth the slow decode.
            if (_profile.TryArchiveModel || (byteIntegers && _profile.UseArchiveModelOnBytes(n) && bestSize * 4 > n))
            {
                trial.Clear();
                int minLength = byteIntegers ? ArchiveStreams.MinByteTensorLength : ArchiveStreams.MinLength;
                if (ArchiveStreams.TryEncode(data, bestSize, trial, minLength) > 0)
                {
                    choice = LeafChoice.Kept;
                    bestSize = trial.WrittenCount;
                    if (kept is not null)
                    {
                        ArrayPool<byte>.Shared.Return(kept);
                    }

                    kept = ArrayPool<byte>.Shared.Rent(trial.WrittenCount);
                    trial.WrittenSpan.CopyTo(kept);
                    keptLength = trial.WrittenCount;
                }
            }

            switch (choice)
            {
                case LeafChoice.Kept:
                    output.Write(kept.AsSpan(0, keptLength));
                    return keptLength;
                case LeafChoice.Rans when rowClasses is not null:
                    bool wideRows = bestSize >= _profile.WideRansMinimumBytes;
                    int rowHeader = WriteEntropyHeader(
                        wideRows ? EntropyMethod.RansRowClassesWide : EntropyMethod.RansRowClasses, alphabetBits, classRowLength, output);
                    return rowHeader + RowClassCodec.Encode(data, rowClasses, output, wideRows);
                case LeafChoice.Rans when ReferenceEquals(chosenModel, order0) && bestSize >= _profile.WideRansMinimumBytes:
                    int wideHeader = WriteEntropyHeader(EntropyMethod.RansOrder0Wide, alphabetBits, 0, output);
                    return wideHeader + RansCodec.EncodeWide(data, chosenModel!, output);
                case LeafChoice.Rans:
                    EntropyMethod method = ReferenceEquals(chosenModel, order0) ? EntropyMethod.RansOrder0 : EntropyMethod.RansOrder1;
                    int header = WriteEntropyHeader(method, alphabetBits, 0, output);
                    return header + RansCodec.Encode(data, chosenModel!, output);
                default:
                    return WriteStored(data, output);
            }
        }
        finally
        {
            if (kept is not null)
            {
                ArrayPool<byte>.Shared.Return(kept);
            }
        }
    }

    private enum LeafChoice
    {
        Stored,
        Rans,
        Kept,
    }

    /// <summary>True when <paramref name="candidate"/> is smaller than <paramref name="current"/> by at least the
    /// given percentage of <paramref name="current"/> (integer arithmetic).</summary>
    internal static bool Saves(long candidate, long current, int percent) => candidate * 100 <= current * (100 - percent) && candidate < current;

    // Order-1 tables only pay on streams with a real alphabet (exponents, indices); two or three symbols are
    // already near their bound with order 0.
    private static bool HasManySymbols(ReadOnlySpan<uint> counts)
    {
        int present = 0;
        foreach (uint c in counts)
        {
            present += c != 0 ? 1 : 0;
        }

        return present >= 3;
    }

    private void EncodeDense(ReadOnlySpan<byte> data, DType dtype, int rowLength, int depth, IBufferWriter<byte> output)
    {
        DType fields = dtype == DType.C64 ? DType.F32 : dtype;
        if (FloatFields.IsSupported(fields))
        {
            if (fields == DType.F16 && PlanesBeatFields(data))
            {
                EncodePlanes(data, 2, rowLength, output);
                return;
            }

            EncodeFields(data, fields, rowLength, output);
            return;
        }

        EncodePlanes(data, dtype.ElementSize(), rowLength, output);
    }

    // F16's exponent is 5 bits and its sign and top mantissa bits sit in the same byte: coding that high byte
    // whole often beats coding the exponent and a 3-bit plane apart, because the top mantissa bits depend on the
    // exponent. Decided on order-0 bounds of both layouts (integer Q16 bits).
    private static bool PlanesBeatFields(ReadOnlySpan<byte> data)
    {
        int count = data.Length / 2;
        Span<uint> high = stackalloc uint[256];
        Span<uint> exponent = stackalloc uint[32];
        Span<uint> top = stackalloc uint[8];
        high.Clear();
        exponent.Clear();
        top.Clear();
        for (int i = 0; i < count; i++)
        {
            byte h = data[(2 * i) + 1];
            high[h]++;
            exponent[(h >> 2) & 0x1F]++;
            top[((h >> 5) & 0x4) | (h & 0x3)]++;
        }

        return StreamStats.Order0CostQ16(high) < StreamStats.Order0CostQ16(exponent) + StreamStats.Order0CostQ16(top);
    }

    private static bool IsFloatDType(DType dtype) => dtype is DType.BF16 or DType.F16 or DType.F32 or DType.F64;

    // Samples the start of the stream: a palette pays when few distinct values occur (global codebook), when the
    // first group has few (per-group codebooks), or when the first group is exactly integer codes times one scale
    // (affine groups, INT8 with per-row scales in F32).
    private static bool PaletteMayPay(ReadOnlySpan<byte> data, DType dtype, int size, int count, int rowLength)
    {
        if (size < 2)
        {
            return false;
        }

        int sample = Math.Min(count, PaletteSampleElements);
        if (StreamStats.CountDistinct(data[..(sample * size)], size, 257) <= 256)
        {
            return true;
        }

        int group = Math.Min(count, 128);
        ReadOnlySpan<byte> first = data[..(group * size)];
        if (StreamStats.CountDistinct(first, size, 33) <= 32)
        {
            return true;
        }

        if (!IsFloatDType(dtype))
        {
            return false;
        }

        int affineSample = rowLength > 0 ? Math.Min(rowLength, sample) : group;
        return StreamStats.IsAffineSample(data[..(affineSample * size)], dtype);
    }

    // A cheap LZ probe: zstd on a 64 KiB sample against the best size so far, scaled to the sample; run the real
    // zstd only when the sample suggests it may win.
    private bool ShouldTryZstd(ReadOnlySpan<byte> data, long bestSize, int slackPercent)
    {
        if (!_profile.AllowZstd || data.Length < MinCodedLength)
        {
            return false;
        }

        int level = _profile.ZstdLevelFor(data.Length);
        if (_profile.AlwaysZstd || data.Length <= TinyStreamLength || (level <= 3 && data.Length <= ZstdSampleBytes))
        {
            return true;
        }

        // Short streams are probed whole at level 3 (a few hundred MB/s): a sample would miss repeats far apart,
        // such as the mirrored halves of an STFT basis, that the high level then finds. Long streams are probed on
        // their first 64 KiB at a mid level.
        bool whole = data.Length <= EffortProfile.SmallStreamLength;
        ReadOnlySpan<byte> sample = whole ? data : data[..ZstdSampleBytes];
        byte[] scratch = ArrayPool<byte>.Shared.Rent(ZstdBackend.GetMaxCompressedLength(sample.Length));
        try
        {
            long sampled = ZstdBackend.Compress(sample, scratch, Math.Min(whole ? 3 : 9, level));

            // Scaled: sampled / sampleLength < bestSize / length, give or take the slack: typed streams get 5% in
            // zstd's favour (the full level finds more than the probe shows); symbol streams, already at their
            // order-0 bound, must show a clear 3% gain before a slow high level runs on all of it.
            return sampled * data.Length * 100 < bestSize * sample.Length * (100L + slackPercent);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Holds the smallest encoding offered so far in a pooled buffer.</summary>
    private sealed class Candidate : IDisposable
    {
        private byte[]? _buffer;

        public bool HasValue => _buffer is not null;

        public int Length { get; private set; } = int.MaxValue;

        public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

        public void Offer(ReadOnlySpan<byte> encoded)
        {
            if (encoded.Length >= Length)
            {
                return;
            }

            if (_buffer is null || _buffer.Length < encoded.Length)
            {
                if (_buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(_buffer);
                }

                _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(encoded.Length, 1));
            }

            encoded.CopyTo(_buffer);
            Length = encoded.Length;
        }

        public void Dispose()
        {
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = null;
            }
        }
    }
}
