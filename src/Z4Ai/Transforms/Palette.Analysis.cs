using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Z4Ai.Internal;

namespace Z4Ai.Transforms;

/// <summary>The palette encoder's analysis: distinct counting, group evaluation and the exact affine check.</summary>
internal static partial class Palette
{
    /// <summary>Fixed group lengths tried besides the row length, largest (cheapest to analyse) first.</summary>
    internal static ReadOnlySpan<int> FixedGroupLengths => [128, 64, 32];

    /// <summary>A grouped candidate is abandoned once this fraction of the data shows it cannot beat the best so far.</summary>
    private const int SampleDivisor = 32;

    /// <summary>
    /// Finds the smallest palette form of <paramref name="raw"/>: a global codebook when at most 2^16 distinct
    /// patterns occur, and, when that fails or needs more than 8-bit indices, per-group codebooks or affine rules for
    /// rows (the last dimension of <paramref name="shape"/>) and for groups of 128, 64 and 32 elements.
    /// </summary>
    /// <param name="raw">Whole elements of <paramref name="dtype"/>.</param>
    /// <param name="dtype">The element type (any whole-byte dtype).</param>
    /// <param name="shape">The tensor's shape; only its last dimension is used, as the row length, and only when
    /// <paramref name="raw"/> is a whole number of rows. May be empty.</param>
    /// <param name="plan">The chosen form, whose <see cref="PalettePlan.EstimatedSize"/> is below the input length.</param>
    /// <param name="byteAlignedIndices">When true, indices are 8 or 16 bits (friendlier to byte-oriented coders).</param>
    /// <returns>False when no palette form is smaller than the input.</returns>
    public static bool TryPlan(
        ReadOnlySpan<byte> raw, DType dtype, ReadOnlySpan<long> shape, [NotNullWhen(true)] out PalettePlan? plan, bool byteAlignedIndices = false)
    {
        plan = null;
        int size = dtype.ElementSize();
        if (size == 0 || raw.IsEmpty || raw.Length % size != 0)
        {
            return false;
        }

        int count = raw.Length / size;
        long best = raw.Length;
        PalettePlan? global = size switch
        {
            1 => PlanGlobal<Element1>(raw, dtype, count, byteAlignedIndices),
            2 => PlanGlobal<Element2>(raw, dtype, count, byteAlignedIndices),
            4 => PlanGlobal<Element4>(raw, dtype, count, byteAlignedIndices),
            _ => PlanGlobal<Element8>(raw, dtype, count, byteAlignedIndices),
        };

        if (global is not null && global.EstimatedSize < best)
        {
            plan = global;
            best = global.EstimatedSize;
        }

        // Groups only help when the global codebook is large: with <= 256 global entries the per-group indices can
        // shrink little and each group would repeat its codebook, unless that codebook is itself a large part of the
        // data (a short tensor whose rows each have their own scale: affine groups then cost a scale per row).
        if (size < 2 || (global is { Parameters.IndexBits: <= 8 } && (long)global.Parameters.CodebookLength * 8 < raw.Length))
        {
            return plan is not null;
        }

        Span<int> candidates = stackalloc int[FixedGroupLengths.Length + 1];
        int candidateCount = 0;
        long rowLength = shape.Length >= 2 ? shape[^1] : 0;
        if (rowLength >= 2 && rowLength < count && count % rowLength == 0)
        {
            candidates[candidateCount++] = (int)rowLength;
        }

        foreach (int g in FixedGroupLengths)
        {
            if (g < count && g != rowLength)
            {
                candidates[candidateCount++] = g;
            }
        }

        foreach (int groupLength in candidates[..candidateCount])
        {
            PalettePlan? grouped = size switch
            {
                2 => PlanGrouped<Element2>(raw, dtype, count, groupLength, byteAlignedIndices, best),
                4 => PlanGrouped<Element4>(raw, dtype, count, groupLength, byteAlignedIndices, best),
                _ => PlanGrouped<Element8>(raw, dtype, count, groupLength, byteAlignedIndices, best),
            };

            if (grouped is not null && grouped.EstimatedSize < best)
            {
                plan = grouped;
                best = grouped.EstimatedSize;
            }
        }

        return plan is not null;
    }

    private static int IndexBitsFor(int entries, bool byteAligned)
    {
        int bits = BitPacking.BitsFor((ulong)(entries - 1));
        return !byteAligned || bits == 0 ? bits : bits <= 8 ? 8 : 16;
    }

    private static PalettePlan? PlanGlobal<TE>(ReadOnlySpan<byte> raw, DType dtype, int count, bool byteAligned)
        where TE : struct, IElementAccess
    {
        int size = TE.Size;
        int bits = size * 8;
        KeyKind kind = KindOf(dtype);
        int cap = Math.Min(MaxEntries, count);
        ulong[] keys = ArrayPool<ulong>.Shared.Rent(cap);
        try
        {
            int distinct = size <= 2 ? DistinctDirect<TE>(raw, count, keys) : DistinctHashed<TE>(raw, count, cap, keys);
            if (distinct < 0)
            {
                return null;
            }

            Span<ulong> sorted = keys.AsSpan(0, distinct);
            for (int e = 0; e < sorted.Length; e++)
            {
                sorted[e] = ToKey(sorted[e], bits, kind);
            }

            sorted.Sort();
            int indexBits = IndexBitsFor(distinct, byteAligned);
            if (indexBits > MaxIndexBitsFor(size))
            {
                return null;
            }

            var codebook = new byte[distinct * size];
            for (int e = 0; e < sorted.Length; e++)
            {
                Elements.Set<TE>(codebook, e, FromKey(sorted[e], bits, kind));
            }

            var parameters = new PaletteParameters(PaletteLayout.Global, dtype, count, indexBits, distinct, count, 0);
            return new PalettePlan(parameters, codebook, []);
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(keys);
        }
    }

    // One- and two-byte elements: a presence bitmap over all 256 or 65536 patterns.
    private static int DistinctDirect<TE>(ReadOnlySpan<byte> raw, int count, Span<ulong> values)
        where TE : struct, IElementAccess
    {
        Span<ulong> present = stackalloc ulong[(1 << (TE.Size * 8)) / 64];
        present.Clear();
        for (int i = 0; i < count; i++)
        {
            ulong v = Elements.Get<TE>(raw, i);
            present[(int)(v >> 6)] |= 1UL << (int)(v & 63);
        }

        int n = 0;
        for (int w = 0; w < present.Length; w++)
        {
            for (ulong bitsLeft = present[w]; bitsLeft != 0; bitsLeft &= bitsLeft - 1)
            {
                if (n == values.Length)
                {
                    return -1;
                }

                values[n++] = ((ulong)w << 6) | (uint)System.Numerics.BitOperations.TrailingZeroCount(bitsLeft);
            }
        }

        return n;
    }

    // Wider elements: a hash set that gives up as soon as it would exceed the cap, so a tensor of mostly distinct
    // floats costs only about cap insertions.
    private static int DistinctHashed<TE>(ReadOnlySpan<byte> raw, int count, int cap, Span<ulong> values)
        where TE : struct, IElementAccess
    {
        using var set = new ValueIndexMap(cap);
        for (int i = 0; i < count; i++)
        {
            if (!set.TryAdd(Elements.Get<TE>(raw, i), 0))
            {
                return -1;
            }
        }

        return set.CopyKeys(values);
    }

    private static PalettePlan? PlanGrouped<TE>(ReadOnlySpan<byte> raw, DType dtype, int count, int groupLength, bool byteAligned, long best)
        where TE : struct, IElementAccess
    {
        int size = TE.Size;
        int maxBits = MaxIndexBitsFor(size);
        int groups = (int)(((long)count + groupLength - 1) / groupLength);
        const int widths = MaxIndexBits + 1;
        int layouts = HasWideScales(dtype) ? 2 : 1;

        // Per layout (0: scales in the dtype, 1: F32 scales) and candidate index width k: group table bytes and
        // codebook entries when every group takes its cheapest option that fits k bits; infeasible once some group
        // fits neither option.
        Span<long> tableBytes = stackalloc long[2 * widths];
        Span<long> entries = stackalloc long[2 * widths];
        Span<bool> feasible = stackalloc bool[2 * widths];
        tableBytes.Clear();
        entries.Clear();
        for (int k = 0; k <= MaxIndexBits; k++)
        {
            feasible[k] = k <= maxBits && (!byteAligned || k is 0 or 8 or 16);
            feasible[widths + k] = layouts == 2 && feasible[k];
        }

        int setSize = Math.Min(groupLength, MaxEntries);
        ulong[] scratch = ArrayPool<ulong>.Shared.Rent(setSize);
        using var distinctSet = new ValueIndexMap(setSize);
        try
        {
            long lowerBound = 0;
            long processed = 0;
            for (int g = 0; g < groups; g++)
            {
                int start = g * groupLength;
                int length = Math.Min(groupLength, count - start);
                if (!AnalyzeGroup<TE>(raw, dtype, start, length, distinctSet, scratch, layouts == 2, out GroupOptions options))
                {
                    return null;
                }

                for (int i = 0; i < layouts * widths; i++)
                {
                    bool wide = i >= widths;
                    if (feasible[i] && options.TryChoose(i % widths, size, wide, out bool affine))
                    {
                        tableBytes[i] += affine ? options.AffineDescriptor(wide) : options.PaletteDescriptorLength;
                        entries[i] += affine ? (wide ? WideScaleEntries : 1) : options.PaletteEntries;
                    }
                    else
                    {
                        feasible[i] = false;
                    }
                }

                // A lower bound on what the groups so far cost; give up when, after a sample, it is not on course
                // to beat the best plan so far (a heuristic: a compressible tail after an incompressible head is lost).
                lowerBound += options.MinCost(size, length);
                processed += length;
                if (processed * SampleDivisor >= count && (double)lowerBound * count >= (double)best * processed)
                {
                    return null;
                }
            }

            int bestIndex = -1;
            long bestSize = best;
            for (int i = 0; i < layouts * widths; i++)
            {
                // A codebook never has more entries than elements (the reader's bound): F32 scales of tiny groups could.
                if (!feasible[i] || entries[i] > count)
                {
                    continue;
                }

                PaletteLayout layout = i >= widths ? PaletteLayout.GroupedWide : PaletteLayout.Grouped;
                var p = new PaletteParameters(layout, dtype, count, i % widths, (int)entries[i], groupLength, (int)tableBytes[i]);
                if (p.EstimatedSize < bestSize)
                {
                    bestSize = p.EstimatedSize;
                    bestIndex = i;
                }
            }

            return bestIndex < 0
                ? null
                : EmitGrouped<TE>(
                    raw, dtype, count, groupLength, bestIndex >= widths, bestIndex % widths, (int)entries[bestIndex], (int)tableBytes[bestIndex],
                    distinctSet, scratch);
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(scratch);
        }
    }

    // Second pass for the winning group length and width: the same per-group analysis, now writing the group table
    // and the codebook (with bounds-checked writes: the sizes come from the first pass).
    private static PalettePlan EmitGrouped<TE>(
        ReadOnlySpan<byte> raw, DType dtype, int count, int groupLength, bool wide, int indexBits, int entries, int tableLength,
        ValueIndexMap distinctSet, ulong[] scratch)
        where TE : struct, IElementAccess
    {
        int size = TE.Size;
        int bits = size * 8;
        KeyKind kind = KindOf(dtype);
        var table = new byte[tableLength];
        var codebook = new byte[entries * size];
        int tableAt = 0;
        int entryAt = 0;
        for (int start = 0; start < count; start += groupLength)
        {
            int length = Math.Min(groupLength, count - start);
            AnalyzeGroup<TE>(raw, dtype, start, length, distinctSet, scratch, wide, out GroupOptions options);
            options.TryChoose(indexBits, size, wide, out bool affine);
            if (affine)
            {
                long c0 = wide ? options.WideC0 : options.AffineC0;
                ulong zigzag = (ulong)((c0 << 1) ^ (c0 >> 63));
                tableAt += VarInt.Write(table.AsSpan(tableAt), (zigzag << 1) | 1);
                if (wide)
                {
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(codebook.AsSpan(entryAt * size, 4), (uint)options.WideScale);
                    entryAt += WideScaleEntries;
                }
                else
                {
                    Elements.Write(codebook.AsSpan(entryAt++ * size), size, options.AffineScale);
                }
            }
            else
            {
                tableAt += VarInt.Write(table.AsSpan(tableAt), (ulong)(options.PaletteEntries - 1) << 1);
                for (int e = 0; e < options.PaletteEntries; e++)
                {
                    Elements.Write(codebook.AsSpan(entryAt++ * size), size, FromKey(scratch[e], bits, kind));
                }
            }
        }

        PaletteLayout layout = wide ? PaletteLayout.GroupedWide : PaletteLayout.Grouped;
        var parameters = new PaletteParameters(layout, dtype, count, indexBits, entries, groupLength, tableLength);
        return new PalettePlan(parameters, codebook, table);
    }

    // Collects the group's distinct patterns with the hash map, sorts their keys into scratch (numeric order) and
    // measures both options. Hashing first keeps the sort to the distinct values, which are few in quantised data.
    private static bool AnalyzeGroup<TE>(
        ReadOnlySpan<byte> raw, DType dtype, int start, int length, ValueIndexMap distinctSet, ulong[] scratch, bool wide, out GroupOptions options)
        where TE : struct, IElementAccess
    {
        int bits = TE.Size * 8;
        KeyKind kind = KindOf(dtype);
        options = default;
        distinctSet.Clear();
        for (int i = 0; i < length; i++)
        {
            if (!distinctSet.TryAdd(Elements.Get<TE>(raw, start + i), 0))
            {
                return false; // more than MaxEntries distinct patterns
            }
        }

        int distinct = distinctSet.CopyKeys(scratch);
        Span<ulong> keys = scratch.AsSpan(0, distinct);
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = ToKey(keys[i], bits, kind);
        }

        keys.Sort();
        options.PaletteEntries = distinct;
        options.PaletteBits = BitPacking.BitsFor((ulong)(distinct - 1));
        options.PaletteDescriptorLength = VarInt.GetLength((ulong)(distinct - 1) << 1);
        options.AffineBits = -1;
        options.WideBits = -1;
        if (wide && distinct >= 3 && FloatFormat.Of(dtype) is { } narrow
            && TryAffineWide(keys, bits, narrow, out long wideC0, out ulong wideSpan, out ulong wideScale))
        {
            options.WideBits = BitPacking.BitsFor(wideSpan);
            options.WideC0 = wideC0;
            options.WideScale = wideScale;
            options.WideDescriptorLength = VarInt.GetLength(((ulong)((wideC0 << 1) ^ (wideC0 >> 63)) << 1) | 1);
        }

        if (distinct >= 3 && dtype != DType.C64 && FloatFormat.Of(dtype) is { } format
            && TryAffine(keys, bits, format, out long c0, out ulong span, out ulong scale))
        {
            options.AffineBits = BitPacking.BitsFor(span);
            options.AffineC0 = c0;
            options.AffineScale = scale;
            options.AffineDescriptorLength = VarInt.GetLength(((ulong)((c0 << 1) ^ (c0 >> 63)) << 1) | 1);
        }

        return true;
    }

    /// <summary>
    /// Looks for a scale s and integer codes with every value equal to the correctly rounded product code * s. The
    /// candidates are the smallest non-zero magnitude (the value of code 1) and half of it (when codes are even);
    /// every distinct value is then checked exactly with <see cref="FloatBits.TryMultiply"/>.
    /// </summary>
    internal static bool TryAffine(ReadOnlySpan<ulong> sortedKeys, int bits, FloatFormat format, out long c0, out ulong span, out ulong scale)
    {
        c0 = 0;
        span = 0;
        scale = 0;
        ulong sign = 1UL << (bits - 1);
        ulong smallest = ulong.MaxValue;
        foreach (ulong key in sortedKeys)
        {
            ulong v = FromKey(key, bits, KeyKind.SignMagnitude);
            if (FloatBits.IsNonFinite(v, format) || v == sign)
            {
                return false; // NaN/Inf are no product; -0.0 is not 0 * a positive scale
            }

            ulong magnitude = v & ~sign;
            if (magnitude != 0 && magnitude < smallest)
            {
                smallest = magnitude;
            }
        }

        if (smallest == ulong.MaxValue)
        {
            return false;
        }

        Span<ulong> candidates = [smallest, 0];
        int candidateCount = 1;
        if ((smallest >> format.MantissaBits) >= 2)
        {
            candidates[candidateCount++] = smallest - (1UL << format.MantissaBits); // exponent - 1: exactly half
        }

        foreach (ulong s in candidates[..candidateCount])
        {
            long min = long.MaxValue;
            long max = long.MinValue;
            bool exact = true;
            foreach (ulong key in sortedKeys)
            {
                if (!TryCode(FromKey(key, bits, KeyKind.SignMagnitude), s, format, out long code))
                {
                    exact = false;
                    break;
                }

                min = Math.Min(min, code);
                max = Math.Max(max, code);
            }

            if (exact && max - min < MaxEntries)
            {
                c0 = min;
                span = (ulong)(max - min);
                scale = s;
                return true;
            }
        }

        return false;
    }

    /// <summary>What one group costs as a palette and, when possible, as an affine rule (scale in the dtype, or F32).</summary>
    private struct GroupOptions
    {
        public int PaletteEntries;
        public int PaletteBits;
        public int PaletteDescriptorLength;
        public int AffineBits; // -1 when the group is not affine
        public long AffineC0;
        public ulong AffineScale;
        public int AffineDescriptorLength;
        public int WideBits; // -1 when the group has no F32-scale affine rule
        public long WideC0;
        public ulong WideScale;
        public int WideDescriptorLength;

        public readonly int AffineDescriptor(bool wide) => wide ? WideDescriptorLength : AffineDescriptorLength;

        /// <summary>The cheaper option whose indices fit <paramref name="k"/> bits (palette on a tie); with
        /// <paramref name="wide"/> the affine option is the F32-scale one.</summary>
        public readonly bool TryChoose(int k, int size, bool wide, out bool affine)
        {
            bool palette = PaletteBits <= k;
            int affineBits = wide ? WideBits : AffineBits;
            int affineCost = wide ? (WideScaleEntries * size) + WideDescriptorLength : size + AffineDescriptorLength;
            affine = affineBits >= 0 && affineBits <= k
                && (!palette || affineCost < (PaletteEntries * size) + PaletteDescriptorLength);
            return palette || affine;
        }

        /// <summary>A lower bound on the group's bytes: the cheaper table and codebook cost, plus its narrowest indices.</summary>
        public readonly long MinCost(int size, int length)
        {
            long palette = ((long)PaletteEntries * size) + PaletteDescriptorLength;
            long minBits = PaletteBits;
            long table = palette;
            if (AffineBits >= 0)
            {
                table = Math.Min(table, size + AffineDescriptorLength);
                minBits = Math.Min(minBits, AffineBits);
            }

            if (WideBits >= 0)
            {
                table = Math.Min(table, (WideScaleEntries * size) + WideDescriptorLength);
                minBits = Math.Min(minBits, WideBits);
            }

            return table + (length * minBits / 8);
        }
    }
}
