using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Entropy;
using Z4Ai.Internal;

namespace Z4Ai.Delta;

/// <summary>
/// The SparseBlock chunk mode: the same changes as <see cref="SparseDelta"/> (gap to each changed element, and its
/// step), coded for decoding speed (docs/delta-format.md, section 1.6). Each number becomes a token (its bit length and
/// the two bits below the leading one) and raw low bits; the tokens go through static-table interleaved rANS
/// (<see cref="RansCodec"/>), the gaps' in one stream, the steps' in one stream per class of the reference element's
/// exponent, and the low bits into two plain bit streams. A decoder walks each stream once without a serial chain of
/// binary decisions, at a small size cost against the adaptive binary coder.
/// </summary>
/// <remarks>
/// Payload: <c>varint K</c>, <c>u8 class shift</c> (0 to 8), <c>u8 flags</c> (bit 0: the position stream is order-1;
/// bit 1: the positions are a bitmap), then length-prefixed (varint) sections: the positions' rANS stream (gap tokens,
/// or the bitmap's bytes), the gaps' low bits (empty for a bitmap), one order-0 rANS stream of step
/// tokens per non-empty class in increasing class order, and the steps' low bits. The class of a change is the eight
/// bits of its reference element below the sign (<see cref="SparseDelta.Lanes.Context"/>) shifted right by the class
/// shift. Every section must be consumed exactly.
/// </remarks>
internal static class SparseBlockDelta
{
    /// <summary>The largest class shift: 8 puts every change in one class.</summary>
    public const int MaxClassShift = 8;

    /// <summary>Bit 0 of the flags byte: the position stream uses order-1 rANS (context = previous symbol).</summary>
    public const byte Order1Flag = 1;

    /// <summary>
    /// Bit 1 of the flags byte: the positions are a bitmap (one bit per element, eight per symbol) instead of gap
    /// tokens and low bits; the gaps' low-bits section is then empty.
    /// </summary>
    public const byte BitmapFlag = 2;

    /// <summary>
    /// Bit 2 of the flags byte: every order-0 rANS stream of at least <see cref="WideMinimumSymbols"/> symbols has 64
    /// interleaved states (the body of <see cref="EntropyMethod.RansOrder0Wide"/>), which a vector decoder reads
    /// several times faster; shorter streams and order-1 streams keep four.
    /// </summary>
    public const byte WideFlag = 4;

    /// <summary>
    /// Bit 3 of the flags byte: the step tokens of every class are one section, one 64-state stream over all K tokens
    /// in class order whose table changes at each class's first token (<see cref="WideRans.EncodeSegments"/>),
    /// instead of a section per class.
    /// </summary>
    public const byte MergedStepsFlag = 8;

    /// <summary>The most non-empty classes a merged step section may have: each is a 16 KiB decode table.</summary>
    public const int MaxMergedClasses = 32;

    /// <summary>The fewest symbols of a wide stream under <see cref="WideFlag"/>: there the 240 bytes of extra states
    /// are under 1.5% of a stream of two-bit tokens (16 KiB), and less as the tokens carry more.</summary>
    public const int WideMinimumSymbols = 64 * 1024;

    /// <summary>Tokens are bytes: 3 + 4 per bit length from 3 to 64, so at most 251 are used.</summary>
    private const int AlphabetBits = 8;

    private const int Contexts = 256;

    /// <summary>How many contiguous runs of changes the decoder's class passes interleave.</summary>
    private const int Quarters = 4;

    /// <summary>Spare bytes the class array needs past the last change for <see cref="ClassifyBitmap16"/>'s stores.</summary>
    private const int ClassSlack = 16;

    /// <summary>Spare entries the position array needs past the last change for <see cref="LocateBitmap"/>'s stores.</summary>
    private const int PositionSlack = 8;

    /// <summary>A gap never needs more low bits than this (chunks hold at most 2^28 elements).</summary>
    private const int MaxGapExtraBits = 28;

    private const byte InvalidExtra = byte.MaxValue;

    /// <summary>The bitmap of positions is kept when its estimate is at most 1/this above the gaps' (about 1.6%).</summary>
    private const int BitmapMargin = 64;

    /// <summary>Per token: the number's value with its low bits zero, and how many low bits follow.</summary>
    private static readonly ulong[] s_tokenBase = BuildTokenBase();

    private static readonly byte[] s_tokenExtra = BuildTokenExtra();

    /// <summary>Per byte value, a byte shuffle that moves the bytes at its set bits to the front, lowest first.</summary>
    private static readonly Vector128<byte>[] s_compact = BuildCompact();

    /// <summary>Per byte value, eight entries: the offsets of its set bits, lowest first, then zeros.</summary>
    private static readonly int[] s_bitOffsets = BuildBitOffsets();

    /// <summary>The token of <paramref name="n"/> (at least 1) and the count of its low bits, which are <c>n</c>'s lowest.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Token(ulong n, out int extraBits)
    {
        int length = 64 - BitOperations.LeadingZeroCount(n);
        if (length <= 2)
        {
            extraBits = 0;
            return (int)n - 1;
        }

        extraBits = length - 3;
        return 3 + ((length - 3) << 2) + (int)((n >> extraBits) & 3);
    }

    /// <summary>The largest token of a number of at most <paramref name="bits"/> bits.</summary>
    public static int MaxToken(int bits) => bits <= 2 ? (1 << bits) - 2 : 3 + ((bits - 3) << 2) + 3;

    /// <summary>
    /// Encodes the payload into <paramref name="destination"/>; returns its length, or -1 if it does not fit (the
    /// caller passes the size it has to beat).
    /// </summary>
    public static int Encode(ReadOnlySpan<byte> chunk, ReadOnlySpan<byte> basis, int laneSize, bool ordered, int changes, Span<byte> destination)
    {
        var lanes = new SparseDelta.Lanes(laneSize, ordered);
        byte[] gapTokens = ArrayPool<byte>.Shared.Rent(changes);
        byte[] stepTokens = ArrayPool<byte>.Shared.Rent(changes);
        byte[] contexts = ArrayPool<byte>.Shared.Rent(changes);
        byte[] sorted = ArrayPool<byte>.Shared.Rent(changes);
        uint[] histogram = ArrayPool<uint>.Shared.Rent(Contexts << AlphabetBits);
        byte[] gapBits = ArrayPool<byte>.Shared.Rent(RawBitWriter.Capacity((long)changes * MaxGapExtraBits));
        byte[] stepBits = ArrayPool<byte>.Shared.Rent(RawBitWriter.Capacity((long)changes * lanes.BitCount));
        using var output = new ArrayPoolBufferWriter<byte>(Math.Max(256, destination.Length + 64));
        using var stream = new ArrayPoolBufferWriter<byte>(256);
        byte[]? bitmap = null;
        try
        {
            Span<uint> counts = histogram.AsSpan(0, Contexts << AlphabetBits);
            counts.Clear();
            var gapWriter = new RawBitWriter(gapBits);
            var stepWriter = new RawBitWriter(stepBits);
            int previous = -1;
            int at = 0;
            for (int k = 0; k < changes; k++)
            {
                at += chunk[at..].CommonPrefixLength(basis[at..]);
                int element = at / laneSize;
                ulong gap = (ulong)(element - previous);
                gapTokens[k] = (byte)Token(gap, out int gapExtra);
                gapWriter.Write(gap, gapExtra);
                previous = element;

                int offset = element * laneSize;
                ulong reference = lanes.Read(basis, offset);
                ulong step = lanes.Step(lanes.Read(chunk, offset), reference);
                int token = Token(step, out int stepExtra);
                stepTokens[k] = (byte)token;
                stepWriter.Write(step, stepExtra);
                int context = lanes.Context(reference);
                contexts[k] = (byte)context;
                counts[(context << AlphabetBits) | token]++;
                at = offset + laneSize;
            }

            int shift = ChooseClassShift(counts);
            ReadOnlySpan<byte> gapLowBits = gapWriter.Finish();
            (RansModel gapModel, bool order1) = BestModel(gapTokens.AsSpan(0, changes));
            long gapBytes = gapModel.EstimatedBytes + gapLowBits.Length;

            // The same positions as a bitmap: fewer symbols to decode once more than one element in eight changed,
            // so a quarter to a half of the decoding work, for about 1% more bytes on random positions (static
            // 12-bit frequencies over 256 byte patterns, and a larger table). Kept when its estimate is at most
            // 1/BitmapMargin above the gaps'.
            int elements = chunk.Length / laneSize;
            int bitmapLength = (elements + 7) / 8;
            bitmap = ArrayPool<byte>.Shared.Rent(bitmapLength);
            Span<byte> map = bitmap.AsSpan(0, bitmapLength);
            map.Clear();
            byte flags = 0;
            ReadOnlySpan<byte> positionSymbols = gapTokens.AsSpan(0, changes);
            RansModel positionModel = gapModel;
            if ((long)changes * 8 >= elements)
            {
                int position = -1;
                var gapReader = new RawBitReader(gapLowBits);
                for (int k = 0; k < changes; k++)
                {
                    position += (int)(s_tokenBase[gapTokens[k]] | gapReader.Read(s_tokenExtra[gapTokens[k]]));
                    map[position >> 3] |= (byte)(1 << (position & 7));
                }

                (RansModel bitmapModel, bool bitmapOrder1) = BestModel(map);
                if (bitmapModel.EstimatedBytes * BitmapMargin <= gapBytes * (BitmapMargin + 1))
                {
                    flags = BitmapFlag;
                    positionSymbols = map;
                    positionModel = bitmapModel;
                    order1 = bitmapOrder1;
                    gapLowBits = default;
                }
            }

            flags |= order1 ? Order1Flag : (byte)0;

            // Many changes split over a few classes: one 64-state stream for all of them (240 bytes of states once,
            // instead of a slow four-state stream per class).
            if (changes >= WideMinimumSymbols && NonEmptyClasses(contexts.AsSpan(0, changes), shift) <= MaxMergedClasses)
            {
                flags |= MergedStepsFlag;
            }

            // The wide bit only when some stream is long enough to use it, so payloads without one keep their bytes.
            ReadOnlySpan<byte> classStreams = (flags & MergedStepsFlag) != 0 ? default : contexts.AsSpan(0, changes);
            if (HasWideStream(positionSymbols.Length, order1, classStreams, shift))
            {
                flags |= WideFlag;
            }

            VarInt.Write(output, (ulong)changes);
            Span<byte> head = output.GetSpan(2);
            head[0] = (byte)shift;
            head[1] = flags;
            output.Advance(2);
            stream.Clear();
            EncodeStream(positionSymbols, positionModel, flags, order1, stream);
            WriteSection(output, stream.WrittenSpan);
            WriteSection(output, gapLowBits);

            // Step tokens grouped by class (a stable counting sort), one order-0 stream per non-empty class.
            int classes = Contexts >> shift;
            Span<int> start = stackalloc int[Contexts + 1];
            start.Clear();
            for (int k = 0; k < changes; k++)
            {
                start[(contexts[k] >> shift) + 1]++;
            }

            for (int c = 0; c < classes; c++)
            {
                start[c + 1] += start[c];
            }

            Span<int> cursor = stackalloc int[Contexts];
            start[..classes].CopyTo(cursor);
            for (int k = 0; k < changes; k++)
            {
                sorted[cursor[contexts[k] >> shift]++] = stepTokens[k];
            }

            if ((flags & MergedStepsFlag) != 0)
            {
                stream.Clear();
                EncodeMergedSteps(sorted.AsSpan(0, changes), start[..(classes + 1)], stream);
                WriteSection(output, stream.WrittenSpan);
            }

            for (int c = 0; c < classes && (flags & MergedStepsFlag) == 0; c++)
            {
                ReadOnlySpan<byte> symbols = sorted.AsSpan(start[c], start[c + 1] - start[c]);
                if (symbols.IsEmpty)
                {
                    continue;
                }

                stream.Clear();
                EncodeStream(symbols, RansCodec.BuildModel(symbols, order1: false, AlphabetBits), flags, order1: false, stream);
                WriteSection(output, stream.WrittenSpan);
                if (output.WrittenCount > destination.Length)
                {
                    return -1;
                }
            }

            WriteSection(output, stepWriter.Finish());
            if (output.WrittenCount > destination.Length)
            {
                return -1;
            }

            output.WrittenSpan.CopyTo(destination);
            return output.WrittenCount;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(gapTokens);
            ArrayPool<byte>.Shared.Return(stepTokens);
            ArrayPool<byte>.Shared.Return(contexts);
            ArrayPool<byte>.Shared.Return(sorted);
            ArrayPool<uint>.Shared.Return(histogram);
            ArrayPool<byte>.Shared.Return(gapBits);
            ArrayPool<byte>.Shared.Return(stepBits);
            if (bitmap is not null)
            {
                ArrayPool<byte>.Shared.Return(bitmap);
            }
        }
    }

    /// <summary>Whether a stream of <paramref name="count"/> symbols is coded with 64 states (<see cref="WideFlag"/>).</summary>
    private static bool IsWide(byte flags, bool order1, int count) => (flags & WideFlag) != 0 && !order1 && count >= WideMinimumSymbols;

    private static int NonEmptyClasses(ReadOnlySpan<byte> contexts, int shift)
    {
        Span<bool> used = stackalloc bool[Contexts];
        used.Clear();
        int count = 0;
        foreach (byte context in contexts)
        {
            int c = context >> shift;
            count += used[c] ? 0 : 1;
            used[c] = true;
        }

        return count;
    }

    /// <summary>
    /// The merged step section (<see cref="MergedStepsFlag"/>): each non-empty class's order-0 table section in class
    /// order, then one 64-state body over <paramref name="sorted"/> with the table switching at each class's start.
    /// </summary>
    private static void EncodeMergedSteps(ReadOnlySpan<byte> sorted, ReadOnlySpan<int> start, IBufferWriter<byte> stream)
    {
        int size = 1 << AlphabetBits;
        var ends = new List<int>(MaxMergedClasses);
        var prefix = new ArrayBufferWriter<byte>();
        RansCodec.EncodeEntry[] entries = ArrayPool<RansCodec.EncodeEntry>.Shared.Rent(MaxMergedClasses * size);
        try
        {
            for (int c = 0; c + 1 < start.Length; c++)
            {
                ReadOnlySpan<byte> symbols = sorted[start[c]..start[c + 1]];
                if (symbols.IsEmpty)
                {
                    continue;
                }

                RansModel model = RansCodec.BuildModel(symbols, order1: false, AlphabetBits);
                prefix.Write(model.TableSection);
                uint cumulative = 0;
                for (int s = 0; s < size; s++)
                {
                    entries[(ends.Count * size) + s] = new RansCodec.EncodeEntry(model.Freqs[s], cumulative);
                    cumulative += model.Freqs[s];
                }

                ends.Add(start[c + 1]);
            }

            WideRans.EncodeSegments(sorted, prefix.WrittenSpan, entries, AlphabetBits, CollectionsMarshal.AsSpan(ends), stream);
        }
        finally
        {
            ArrayPool<RansCodec.EncodeEntry>.Shared.Return(entries);
        }
    }

    /// <summary>Reads a merged step section into <paramref name="tokens"/> (class order); <paramref name="classCounts"/>
    /// holds each class's token count.</summary>
    private static void DecodeMergedSteps(ReadOnlySpan<byte> section, ReadOnlySpan<int> classCounts, Span<byte> tokens, int chunkIndex)
    {
        int size = 1 << AlphabetBits;
        Span<int> ends = stackalloc int[MaxMergedClasses];
        int segments = 0;
        int total = 0;
        foreach (int count in classCounts)
        {
            if (count == 0)
            {
                continue;
            }

            if (segments == MaxMergedClasses)
            {
                ThrowHelper.CorruptFrame($"sparse-block chunk {chunkIndex} merges the step tokens of more than {MaxMergedClasses} classes");
            }

            total += count;
            ends[segments++] = total;
        }

        uint[] freqs = ArrayPool<uint>.Shared.Rent(size);
        uint[] entries = ArrayPool<uint>.Shared.Rent(segments * FrequencyTable.ProbScale);
        try
        {
            int offset = 0;
            for (int t = 0; t < segments; t++)
            {
                var reader = new BitReader(section[offset..]);
                FrequencyTable.Read(ref reader, AlphabetBits, freqs.AsSpan(0, size));
                offset += reader.BytesConsumed;
                RansCodec.FillEntries(freqs.AsSpan(0, size), entries.AsSpan(t * FrequencyTable.ProbScale, FrequencyTable.ProbScale));
            }

            WideRans.DecodeSegments(section[offset..], entries.AsSpan(0, segments * FrequencyTable.ProbScale), ends[..segments], tokens, WideRans.Best);
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(entries);
            ArrayPool<uint>.Shared.Return(freqs);
        }
    }

    private static bool HasWideStream(int positionSymbols, bool positionOrder1, ReadOnlySpan<byte> contexts, int shift)
    {
        if (IsWide(WideFlag, positionOrder1, positionSymbols))
        {
            return true;
        }

        if (contexts.Length < WideMinimumSymbols)
        {
            return false;
        }

        Span<int> perClass = stackalloc int[Contexts];
        perClass.Clear();
        foreach (byte context in contexts)
        {
            perClass[context >> shift]++;
        }

        foreach (int count in perClass)
        {
            if (IsWide(WideFlag, order1: false, count))
            {
                return true;
            }
        }

        return false;
    }

    private static void EncodeStream(ReadOnlySpan<byte> symbols, RansModel model, byte flags, bool order1, IBufferWriter<byte> stream)
    {
        if (IsWide(flags, order1, symbols.Length))
        {
            RansCodec.EncodeWide(symbols, model, stream);
        }
        else
        {
            RansCodec.Encode(symbols, model, stream);
        }
    }

    /// <summary>The smaller (by estimate) of the order-0 and order-1 models of <paramref name="symbols"/>.</summary>
    private static (RansModel Model, bool Order1) BestModel(ReadOnlySpan<byte> symbols)
    {
        RansModel order0 = RansCodec.BuildModel(symbols, order1: false, AlphabetBits);
        RansModel order1 = RansCodec.BuildModel(symbols, order1: true, AlphabetBits);
        return order1.EstimatedBytes < order0.EstimatedBytes ? (order1, true) : (order0, false);
    }

    /// <summary>
    /// Patches <paramref name="target"/>, which holds the reference chunk, with the changes in
    /// <paramref name="payload"/>.
    /// </summary>
    /// <remarks>
    /// Decoding runs as separate tight passes rather than one loop doing everything per change: positions (for a
    /// bitmap, branch-free with vectors: <see cref="LocateBitmap"/>), each change's class, the step tokens back into
    /// change order, then the patch. The class and reordering passes walk <see cref="Quarters"/> contiguous runs of
    /// the changes side by side, each with its own counters (meant to keep the counter updates of neighbouring changes
    /// from waiting on one another; no gain from this alone showed in CPU time, the measured gains came from the
    /// vector passes). The bytes written are the same as a single pass would write.
    /// </remarks>
    public static void Decode(ReadOnlySpan<byte> payload, Span<byte> target, int laneSize, bool ordered, int chunkIndex)
    {
        int elements = target.Length / laneSize;
        var lanes = new SparseDelta.Lanes(laneSize, ordered);
        var reader = new SpanReader(payload);
        int changes = SparseDelta.ReadCount(payload, elements, chunkIndex, 0);
        reader.ReadVarUInt64();
        int shift = reader.ReadByte();
        byte flags = reader.ReadByte();
        if (shift > MaxClassShift || (flags & ~(Order1Flag | BitmapFlag | WideFlag | MergedStepsFlag)) != 0)
        {
            ThrowHelper.CorruptFrame($"sparse-block chunk {chunkIndex} has class shift {shift} and flags {flags}, expected at most {MaxClassShift} and bits 0 to 3 only");
        }

        bool useBitmap = (flags & BitmapFlag) != 0;
        int bitmapLength = (elements + 7) / 8;
        byte[] tokens = ArrayPool<byte>.Shared.Rent(useBitmap ? Math.Max(changes, bitmapLength) : changes);
        byte[] classes = ArrayPool<byte>.Shared.Rent(changes + ClassSlack);
        int[] positions = ArrayPool<int>.Shared.Rent(changes + PositionSlack);
        int[] quarterCounts = ArrayPool<int>.Shared.Rent(Quarters * Contexts);
        try
        {
            ReadOnlySpan<byte> positionStream = ReadSection(ref reader);
            bool positionOrder1 = (flags & Order1Flag) != 0;
            int positionSymbols = useBitmap ? bitmapLength : changes;
            RansCodec.Decode(positionStream, positionOrder1, AlphabetBits, tokens.AsSpan(0, positionSymbols), IsWide(flags, positionOrder1, positionSymbols));
            var gapBits = new RawBitReader(ReadSection(ref reader));
            if (useBitmap)
            {
                LocateBitmap(tokens.AsSpan(0, bitmapLength), positions, changes, elements, chunkIndex);
            }
            else
            {
                LocateGaps(tokens, positions, changes, ref gapBits, elements, chunkIndex);
            }

            if (!gapBits.EndsExactly)
            {
                ThrowHelper.CorruptFrame($"sparse-block chunk {chunkIndex}: the gaps' low bits take {gapBits.BitPosition} bits, which the section's length does not match");
            }

            Span<int> counts = quarterCounts.AsSpan(0, Quarters * Contexts);
            counts.Clear();
            switch (laneSize)
            {
                case 1:
                    Classify<byte>(positions, changes, target, lanes, shift, classes, counts);
                    break;
                case 2 when useBitmap && Ssse3.IsSupported:
                    ClassifyBitmap16(tokens.AsSpan(0, bitmapLength), changes, target, shift, classes, counts);
                    break;
                case 2:
                    Classify<ushort>(positions, changes, target, lanes, shift, classes, counts);
                    break;
                case 4:
                    Classify<uint>(positions, changes, target, lanes, shift, classes, counts);
                    break;
                default:
                    Classify<ulong>(positions, changes, target, lanes, shift, classes, counts);
                    break;
            }

            // The gap tokens are spent: the step tokens take their place, grouped by class. Each quarter's cursor
            // for a class starts after that class's tokens of the earlier quarters.
            int classCount = Contexts >> shift;
            bool merged = (flags & MergedStepsFlag) != 0;
            Span<int> classTotals = stackalloc int[Contexts];
            int at = 0;
            for (int c = 0; c < classCount; c++)
            {
                int count = 0;
                for (int q = 0; q < Quarters; q++)
                {
                    int n = counts[(q * Contexts) + c];
                    counts[(q * Contexts) + c] = at + count;
                    count += n;
                }

                classTotals[c] = count;
                if (count > 0 && !merged)
                {
                    RansCodec.Decode(ReadSection(ref reader), order1: false, AlphabetBits, tokens.AsSpan(at, count), IsWide(flags, order1: false, count));
                }

                at += count;
            }

            if (merged)
            {
                DecodeMergedSteps(ReadSection(ref reader), classTotals[..classCount], tokens.AsSpan(0, changes), chunkIndex);
            }

            var stepBits = new RawBitReader(ReadSection(ref reader));
            if (reader.Remaining != 0)
            {
                ThrowHelper.CorruptFrame($"sparse-block chunk {chunkIndex}: {reader.Remaining} unexpected bytes after the last section");
            }

            // The class bytes are spent too: they take the step tokens in change order.
            Reorder(tokens, classes, changes, counts);
            switch (laneSize)
            {
                case 1:
                    Patch<byte>(classes, positions, changes, ref stepBits, target, lanes, chunkIndex);
                    break;
                case 2 when useBitmap && BitConverter.IsLittleEndian:
                    PatchDense16(classes, positions, changes, ref stepBits, target, ordered, chunkIndex);
                    break;
                case 2:
                    Patch<ushort>(classes, positions, changes, ref stepBits, target, lanes, chunkIndex);
                    break;
                case 4:
                    Patch<uint>(classes, positions, changes, ref stepBits, target, lanes, chunkIndex);
                    break;
                default:
                    Patch<ulong>(classes, positions, changes, ref stepBits, target, lanes, chunkIndex);
                    break;
            }

            if (!stepBits.EndsExactly)
            {
                ThrowHelper.CorruptFrame($"sparse-block chunk {chunkIndex}: the steps' low bits take {stepBits.BitPosition} bits, which the section's length does not match");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(tokens);
            ArrayPool<byte>.Shared.Return(classes);
            ArrayPool<int>.Shared.Return(positions);
            ArrayPool<int>.Shared.Return(quarterCounts);
        }
    }

    /// <summary>The positions of the set bits of the bitmap in <paramref name="bitmap"/>, checked against the count.</summary>
    /// <remarks>
    /// At the densities where the bitmap is used (at least one element in eight changed) a loop over each byte's set
    /// bits mispredicts its exit on nearly every byte. With 256-bit vectors each byte instead stores all eight entries
    /// of its row of <see cref="s_bitOffsets"/> (the offsets of its set bits, lowest first) at the next position and
    /// advances by its popcount, so there is no data-dependent branch; <paramref name="positions"/> needs
    /// <see cref="PositionSlack"/> spare entries for the unused tail of the last store.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void LocateBitmap(ReadOnlySpan<byte> bitmap, int[] positions, int changes, int elements, int chunkIndex)
    {
        int bytes = (elements + 7) / 8;
        int last = bytes - 1;
        if (bytes > 0 && (bitmap[last] >> (elements - (last * 8))) != 0)
        {
            ThrowHelper.CorruptFrame($"sparse-block chunk {chunkIndex}: the position bitmap marks more than {changes} changes or elements past {elements}");
        }

        int k = 0;
        if (Vector256.IsHardwareAccelerated && positions.Length >= changes + PositionSlack)
        {
            ref int offsets = ref MemoryMarshal.GetArrayDataReference(s_bitOffsets);
            ref int output = ref MemoryMarshal.GetArrayDataReference(positions);
            for (int b = 0; b < bytes; b++)
            {
                uint bits = bitmap[b];
                int next = k + BitOperations.PopCount(bits);
                if (next > changes)
                {
                    ThrowHelper.CorruptFrame($"sparse-block chunk {chunkIndex}: the position bitmap marks more than {changes} changes or elements past {elements}");
                }

                Vector256<int> row = Vector256.LoadUnsafe(ref offsets, (nuint)(bits * 8));
                (row + Vector256.Create(b * 8)).StoreUnsafe(ref output, (nuint)k);
                k = next;
            }
        }
        else
        {
            k = LocateBitmapScalar(bitmap, positions, changes, bytes, elements, chunkIndex);
        }

        if (k != changes)
        {
            ThrowHelper.CorruptFrame($"sparse-block chunk {chunkIndex}: the position bitmap marks {k} changes, the payload declares {changes}");
        }
    }

    /// <summary>The scalar form of <see cref="LocateBitmap"/>: returns how many positions the bitmap marks.</summary>
    internal static int LocateBitmapScalar(ReadOnlySpan<byte> bitmap, int[] positions, int changes, int bytes, int elements, int chunkIndex)
    {
        int k = 0;
        for (int b = 0; b < bytes; b++)
        {
            uint bits = bitmap[b];
            if (bits == 0)
            {
                continue;
            }

            if (k + BitOperations.PopCount(bits) > changes)
            {
                ThrowHelper.CorruptFrame($"sparse-block chunk {chunkIndex}: the position bitmap marks more than {changes} changes or elements past {elements}");
            }

            do
            {
                positions[k++] = (b * 8) + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
            }
            while (bits != 0);
        }

        return k;
    }

    /// <summary>Turns the gap tokens and their low bits into positions, checking each.</summary>
    private static void LocateGaps(byte[] tokens, int[] positions, int changes, ref RawBitReader gapBits, int elements, int chunkIndex)
    {
        ref ulong tokenBase = ref MemoryMarshal.GetArrayDataReference(s_tokenBase);
        ref byte tokenExtra = ref MemoryMarshal.GetArrayDataReference(s_tokenExtra);
        RawBitReader bits = gapBits;
        long position = -1;
        for (int k = 0; k < changes; k++)
        {
            int token = tokens[k];
            int extra = Unsafe.Add(ref tokenExtra, token);
            if (extra > MaxGapExtraBits)
            {
                ThrowHelper.CorruptFrame($"sparse-block chunk {chunkIndex}: change {k} of {changes} has gap token {token}, beyond any gap in {elements} elements");
            }

            position += (long)(Unsafe.Add(ref tokenBase, token) | bits.Read(extra));
            if (position >= elements)
            {
                ThrowHelper.CorruptFrame($"sparse-block chunk {chunkIndex}: change {k} of {changes} lies outside the chunk's {elements} elements");
            }

            positions[k] = (int)position;
        }

        gapBits = bits;
    }

    /// <summary>
    /// Each change's class (from its reference element, which <paramref name="target"/> still holds), and per quarter
    /// of the changes the count of each class into <c>counts[quarter * 256 + class]</c>.
    /// </summary>
    internal static void Classify<T>(
        int[] positions, int changes, Span<byte> target, in SparseDelta.Lanes lanes, int shift, byte[] classes, Span<int> counts)
        where T : unmanaged, IBinaryInteger<T>
    {
        ref byte start = ref MemoryMarshal.GetReference(target);
        ref int count = ref MemoryMarshal.GetReference(counts);
        SparseDelta.Lanes local = lanes;
        int quarter = changes / Quarters;
        for (int j = 0; j < quarter; j++)
        {
            for (int q = 0; q < Quarters; q++)
            {
                int k = (q * quarter) + j;
                int c = local.Context(Load<T>(ref start, positions[k], target, local)) >> shift;
                classes[k] = (byte)c;
                Unsafe.Add(ref count, (q * Contexts) + c)++;
            }
        }

        // The last quarter also takes the changes that do not divide into four.
        for (int k = Quarters * quarter; k < changes; k++)
        {
            int c = local.Context(Load<T>(ref start, positions[k], target, local)) >> shift;
            classes[k] = (byte)c;
            Unsafe.Add(ref count, ((Quarters - 1) * Contexts) + c)++;
        }
    }

    /// <summary>
    /// <see cref="Classify{T}"/> for 16-bit lanes whose positions are a bitmap: per bitmap byte, the classes of its
    /// eight reference elements are computed together and the ones the byte marks are packed to the front with one
    /// byte shuffle (<see cref="s_compact"/>), then stored at the next change; the counts follow in a second pass.
    /// <paramref name="classes"/> needs <see cref="ClassSlack"/> spare bytes, and the bitmap must already be
    /// validated (<see cref="LocateBitmap"/>). Same classes and counts as <see cref="Classify{T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ClassifyBitmap16(ReadOnlySpan<byte> bitmap, int changes, Span<byte> target, int shift, byte[] classes, Span<int> counts)
    {
        int elements = target.Length / 2;
        ReadOnlySpan<ushort> values = MemoryMarshal.Cast<byte, ushort>(target[..(elements * 2)]);
        ref ushort first = ref MemoryMarshal.GetReference(values);
        ref byte output = ref MemoryMarshal.GetArrayDataReference(classes);
        ref Vector128<byte> compact = ref MemoryMarshal.GetArrayDataReference(s_compact);
        int k = 0;
        int whole = elements / 8;
        var mask = Vector128.Create((ushort)(0xFF >> shift));
        for (int b = 0; b < whole; b++)
        {
            uint bits = bitmap[b];
            Vector128<ushort> context = Vector128.ShiftRightLogical(Vector128.LoadUnsafe(ref first, (nuint)(b * 8)), 7 + shift) & mask;
            Vector128<byte> narrow = Sse2.PackUnsignedSaturate(context.AsInt16(), context.AsInt16());
            Ssse3.Shuffle(narrow, Unsafe.Add(ref compact, bits)).StoreUnsafe(ref output, (nuint)k);
            k += BitOperations.PopCount(bits);
        }

        var lanes = new SparseDelta.Lanes(2, ordered: true);
        for (int e = whole * 8; e < elements; e++)
        {
            if ((bitmap[e >> 3] & (1 << (e & 7))) != 0)
            {
                classes[k++] = (byte)(lanes.Context(values[e]) >> shift);
            }
        }

        ref int count = ref MemoryMarshal.GetReference(counts);
        int quarter = changes / Quarters;
        for (int q = 0; q < Quarters; q++)
        {
            int end = q == Quarters - 1 ? changes : (q + 1) * quarter;
            ref int row = ref Unsafe.Add(ref count, q * Contexts);
            for (int i = q * quarter; i < end; i++)
            {
                Unsafe.Add(ref row, classes[i])++;
            }
        }
    }

    /// <summary>
    /// Replaces each change's class in <paramref name="classes"/> by its step token: the next unused one of its class
    /// in <paramref name="sorted"/>, through the quarter's cursor for that class in <paramref name="cursors"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Reorder(byte[] sorted, byte[] classes, int changes, Span<int> cursors)
    {
        ref int cursor = ref MemoryMarshal.GetReference(cursors);
        int quarter = changes / Quarters;
        for (int j = 0; j < quarter; j++)
        {
            for (int q = 0; q < Quarters; q++)
            {
                int k = (q * quarter) + j;
                classes[k] = sorted[Unsafe.Add(ref cursor, (q * Contexts) + classes[k])++];
            }
        }

        for (int k = Quarters * quarter; k < changes; k++)
        {
            classes[k] = sorted[Unsafe.Add(ref cursor, ((Quarters - 1) * Contexts) + classes[k])++];
        }
    }

    /// <summary>Applies the steps: per change its token, in change order, and its low bits.</summary>
    private static void Patch<T>(
        byte[] tokens, int[] positions, int changes, ref RawBitReader stepBits, Span<byte> target, in SparseDelta.Lanes lanes, int chunkIndex)
        where T : unmanaged, IBinaryInteger<T>
    {
        int maxToken = MaxToken(Unsafe.SizeOf<T>() * 8);
        ref byte start = ref MemoryMarshal.GetReference(target);
        ref ulong tokenBase = ref MemoryMarshal.GetArrayDataReference(s_tokenBase);
        ref byte tokenExtra = ref MemoryMarshal.GetArrayDataReference(s_tokenExtra);

        // Local copies: through the references the JIT must assume that every store into the target may change
        // them, and would reload the lane constants and store the bit position on every change.
        SparseDelta.Lanes local = lanes;
        RawBitReader bits = stepBits;
        for (int k = 0; k < changes; k++)
        {
            int element = positions[k];
            int token = tokens[k];
            if (token > maxToken)
            {
                ThrowHelper.CorruptFrame($"sparse-block chunk {chunkIndex}: change {k} of {changes} has step token {token}, wider than {local.BitCount} bits");
            }

            ulong step = Unsafe.Add(ref tokenBase, token) | bits.Read(Unsafe.Add(ref tokenExtra, token));
            Store<T>(ref start, element, local.Apply(Load<T>(ref start, element, target, local), step), target, local);
        }

        stepBits = bits;
    }

    /// <summary>
    /// <see cref="Patch{T}"/> for 16-bit lanes when the positions came from a bitmap (at least one element in eight
    /// changed): each change's step goes into a zeroed array with one entry per element, which is then exactly the
    /// Subtract transform of the chunk, so <see cref="DeltaKernels.Add"/> applies all of it with vectors (a zero step
    /// leaves an element as it was). Per change that leaves the token, its low bits and one store. Same bytes as
    /// <see cref="Patch{T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PatchDense16(
        byte[] tokens, int[] positions, int changes, ref RawBitReader stepBits, Span<byte> target, bool ordered, int chunkIndex)
    {
        int maxToken = MaxToken(16);
        int elements = target.Length / 2;
        ushort[] steps = ArrayPool<ushort>.Shared.Rent(elements);
        try
        {
            Span<ushort> dense = steps.AsSpan(0, elements);
            dense.Clear();
            ref ulong tokenBase = ref MemoryMarshal.GetArrayDataReference(s_tokenBase);
            ref byte tokenExtra = ref MemoryMarshal.GetArrayDataReference(s_tokenExtra);
            RawBitReader bits = stepBits;
            for (int k = 0; k < changes; k++)
            {
                int token = tokens[k];
                if (token > maxToken)
                {
                    ThrowHelper.CorruptFrame($"sparse-block chunk {chunkIndex}: change {k} of {changes} has step token {token}, wider than 16 bits");
                }

                dense[positions[k]] = (ushort)(Unsafe.Add(ref tokenBase, token) | bits.Read(Unsafe.Add(ref tokenExtra, token)));
            }

            stepBits = bits;
            Span<byte> lanes = target[..(elements * 2)];
            DeltaKernels.Add(MemoryMarshal.AsBytes(dense), lanes, lanes, 2, ordered);
        }
        finally
        {
            ArrayPool<ushort>.Shared.Return(steps);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Load<T>(ref byte start, int element, ReadOnlySpan<byte> target, in SparseDelta.Lanes lanes)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (!BitConverter.IsLittleEndian)
        {
            return lanes.Read(target, element * Unsafe.SizeOf<T>());
        }

        return ulong.CreateTruncating(Unsafe.ReadUnaligned<T>(ref Unsafe.Add(ref start, element * Unsafe.SizeOf<T>())));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(ref byte start, int element, ulong value, Span<byte> target, in SparseDelta.Lanes lanes)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (!BitConverter.IsLittleEndian)
        {
            lanes.Write(target, element * Unsafe.SizeOf<T>(), value);
            return;
        }

        Unsafe.WriteUnaligned(ref Unsafe.Add(ref start, element * Unsafe.SizeOf<T>()), T.CreateTruncating(value));
    }

    /// <summary>
    /// The class shift whose per-class order-0 tables cost the fewest estimated bytes, tables and length prefixes
    /// included; the widest classes on a tie.
    /// </summary>
    private static int ChooseClassShift(ReadOnlySpan<uint> counts)
    {
        Span<uint> merged = stackalloc uint[1 << AlphabetBits];
        int best = MaxClassShift;
        long bestBytes = long.MaxValue;
        for (int shift = MaxClassShift; shift >= 0; shift--)
        {
            long bytes = 0;
            for (int c = 0; c < Contexts >> shift && bytes < bestBytes; c++)
            {
                merged.Clear();
                long total = 0;
                for (int context = c << shift; context < (c + 1) << shift; context++)
                {
                    ReadOnlySpan<uint> row = counts.Slice(context << AlphabetBits, 1 << AlphabetBits);
                    for (int s = 0; s < row.Length; s++)
                    {
                        merged[s] += row[s];
                        total += row[s];
                    }
                }

                if (total > 0)
                {
                    long section = RansModel.BuildOrder0(merged, AlphabetBits).EstimatedBytes;
                    bytes += section + VarInt.GetLength((ulong)section);
                }
            }

            if (bytes < bestBytes)
            {
                bestBytes = bytes;
                best = shift;
            }
        }

        return best;
    }

    private static void WriteSection(IBufferWriter<byte> output, ReadOnlySpan<byte> section)
    {
        VarInt.Write(output, (ulong)section.Length);
        output.Write(section);
    }

    private static ReadOnlySpan<byte> ReadSection(ref SpanReader reader) => reader.ReadBytes(reader.ReadVarInt32(reader.Remaining));

    private static ulong[] BuildTokenBase()
    {
        ulong[] table = new ulong[1 << AlphabetBits];
        for (int token = 0; token < table.Length; token++)
        {
            table[token] = token < 3 ? (ulong)token + 1 : token <= MaxToken(64) ? (4UL | (uint)((token - 3) & 3)) << ((token - 3) >> 2) : 0;
        }

        return table;
    }

    private static Vector128<byte>[] BuildCompact()
    {
        var table = new Vector128<byte>[256];
        Span<byte> row = stackalloc byte[16];
        for (int value = 0; value < 256; value++)
        {
            row.Fill(0x80);
            int n = 0;
            for (int bit = 0; bit < 8; bit++)
            {
                if ((value & (1 << bit)) != 0)
                {
                    row[n++] = (byte)bit;
                }
            }

            table[value] = Vector128.Create((ReadOnlySpan<byte>)row);
        }

        return table;
    }

    private static int[] BuildBitOffsets()
    {
        int[] table = new int[256 * 8];
        for (int value = 0; value < 256; value++)
        {
            int n = 0;
            for (int bit = 0; bit < 8; bit++)
            {
                if ((value & (1 << bit)) != 0)
                {
                    table[(value * 8) + n++] = bit;
                }
            }
        }

        return table;
    }

    private static byte[] BuildTokenExtra()
    {
        byte[] table = new byte[1 << AlphabetBits];
        for (int token = 0; token < table.Length; token++)
        {
            table[token] = token < 3 ? (byte)0 : token <= MaxToken(64) ? (byte)((token - 3) >> 2) : InvalidExtra;
        }

        return table;
    }
}
