using System.Buffers;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Entropy;
using Z4Ai.Internal;
using Z4Ai.Planes;
using Z4Ai.Transforms;

namespace Z4Ai.Codecs;

/// <summary>Node writers: each appends one node (kind byte, parameters, children) in the layout of docs/format.md.</summary>
internal sealed partial class RecipeEncoder
{
    /// <summary>Appends a stored leaf.</summary>
    internal static int WriteStored(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        WriteByte(output, (byte)RecipeKind.Stored);
        output.Write(data);
        return data.Length + 1;
    }

    /// <summary>Appends a zstd leaf at the profile's level.</summary>
    private int WriteZstd(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        WriteByte(output, (byte)RecipeKind.Zstd);
        return 1 + ZstdBackend.Compress(data, output, _profile.ZstdLevelFor(data.Length));
    }

    /// <summary>Appends an entropy leaf's header: kind, method, alphabet bits, and the row length for context mixing and row classes.</summary>
    internal static int WriteEntropyHeader(EntropyMethod method, int alphabetBits, int rowLength, IBufferWriter<byte> output)
    {
        Span<byte> span = output.GetSpan(3 + VarInt.MaxLength);
        span[0] = (byte)RecipeKind.Entropy;
        span[1] = (byte)method;
        span[2] = (byte)alphabetBits;
        int length = 3;
        if (method is EntropyMethod.ContextMixing or EntropyMethod.RansRowClasses or EntropyMethod.RansRowClassesWide)
        {
            length += VarInt.Write(span[3..], (ulong)rowLength);
        }

        output.Advance(length);
        return length;
    }

    private static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private static void WriteHeader(IBufferWriter<byte> output, RecipeKind kind, DType dtype)
    {
        Span<byte> span = output.GetSpan(2);
        span[0] = (byte)kind;
        span[1] = (byte)dtype;
        output.Advance(2);
    }

    /// <summary>Appends a child node: nothing for an empty stream, else its varint length and its bytes.</summary>
    private static void WriteChild(IBufferWriter<byte> output, ReadOnlySpan<byte> child, int rawLength)
    {
        if (rawLength == 0)
        {
            return;
        }

        VarInt.Write(output, (ulong)child.Length);
        output.Write(child);
    }

    private void WriteSymbolsChild(ReadOnlySpan<byte> data, int alphabetBits, int rowLength, IBufferWriter<byte> output, int classRowLength = 0, int maxRowClasses = 0)
    {
        if (data.IsEmpty)
        {
            return;
        }

        using var child = new ArrayPoolBufferWriter<byte>(data.Length + 64);
        EncodeSymbols(data, alphabetBits, rowLength, child, classRowLength: classRowLength, maxRowClasses: maxRowClasses);
        WriteChild(output, child.WrittenSpan, data.Length);
    }

    private void WriteTypedChild(ReadOnlySpan<byte> data, DType dtype, int rowLength, int depth, IBufferWriter<byte> output)
    {
        if (data.IsEmpty)
        {
            return;
        }

        using var child = new ArrayPoolBufferWriter<byte>(data.Length + 64);
        EncodeTyped(data, dtype, rowLength, depth + 1, child);
        WriteChild(output, child.WrittenSpan, data.Length);
    }

    /// <summary>
    /// Fields node: dtype, then the exponent stream and each sign+mantissa plane as symbol leaves; or, where coding the
    /// top plane one stream per class of exponents saves enough (<see cref="ExponentClasses"/>), a classed fields node.
    /// </summary>
    private void EncodeFields(ReadOnlySpan<byte> data, DType dtype, int rowLength, IBufferWriter<byte> output)
    {
        int count = data.Length / dtype.ElementSize();
        int planes = FloatFields.GetPlaneCount(dtype);
        byte[] buffer = ArrayPool<byte>.Shared.Rent((planes + 1) * count);
        ArrayPoolBufferWriter<byte>? topPart = null;
        try
        {
            Span<byte> exponents = buffer.AsSpan(0, count);
            Span<byte> signMantissa = buffer.AsSpan(count, planes * count);
            FloatFields.Split(dtype, data, exponents, signMantissa);
            bool half = dtype == DType.F16;
            int topBits = half ? 3 : 8;
            ReadOnlySpan<byte> top = signMantissa.Slice((planes - 1) * count, count);

            // Classes estimated to save no more than the margin are not worth coding the plane a second time for;
            // when they are, the top plane is coded both ways and the classed form must still beat the margin.
            long margin = (long)count * _profile.EntropyGainPercent / 100;
            ExponentClasses? classes = _profile.AllowExponentClasses && count >= ExponentClasses.MinElements
                ? ExponentClasses.Plan(exponents, top, dtype, _profile.ExponentClassSampleStride, margin, out _)
                : null;
            int parameterLength = 0;
            if (classes is not null)
            {
                (topPart, parameterLength) = EncodeTopBothWays(exponents, top, topBits, classes, margin);
                classes = parameterLength > 0 ? classes : null;
            }

            WriteHeader(output, classes is null ? RecipeKind.Fields : RecipeKind.ClassedFields, dtype);
            if (classes is not null)
            {
                // K, the map and the class lengths are the node's parameters, ahead of the children.
                output.Write(topPart!.WrittenSpan[..parameterLength]);
            }

            if (!half && rowLength >= MinRowForExponentShift && count / rowLength >= 2)
            {
                using var child = new ArrayPoolBufferWriter<byte>(count + 64);
                EncodeExponents(exponents, rowLength, child);
                WriteChild(output, child.WrittenSpan, count);
            }
            else
            {
                // Rows (output channels) differ in spread as well as scale: row classes give each kind its own table.
                WriteSymbolsChild(exponents, half ? 5 : 8, rowLength, output, rowLength, _profile.MaxExponentRowClasses);
            }

            for (int k = 0; k < planes - 1; k++)
            {
                WriteSymbolsChild(signMantissa.Slice(k * count, count), 8, 0, output);
            }

            if (topPart is null)
            {
                WriteSymbolsChild(top, topBits, 0, output);
            }
            else
            {
                output.Write(topPart.WrittenSpan[parameterLength..]);
            }
        }
        finally
        {
            topPart?.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // The top plane as one child and as one child per exponent class: the classed bytes (node parameters first, their
    // length returned) when they beat the plain child by the margin, else the plain child and 0.
    private (ArrayPoolBufferWriter<byte> Part, int ParameterLength) EncodeTopBothWays(
        ReadOnlySpan<byte> exponents, ReadOnlySpan<byte> top, int topBits, ExponentClasses classes, long margin)
    {
        int count = top.Length;
        var plain = new ArrayPoolBufferWriter<byte>(count + 64);
        var classed = new ArrayPoolBufferWriter<byte>(count + 64);
        byte[] grouped = ArrayPool<byte>.Shared.Rent(count);
        try
        {
            WriteSymbolsChild(top, topBits, 0, plain);
            Span<int> lengths = stackalloc int[classes.Count];
            classes.CountClasses(exponents, lengths);
            classes.Partition(exponents, top, lengths, grouped);
            classes.Write(classed);
            ExponentClasses.WriteLengths(lengths, classed);
            int parameterLength = classed.WrittenCount;
            for (int j = 0, start = 0; j < classes.Count; start += lengths[j], j++)
            {
                WriteSymbolsChild(grouped.AsSpan(start, lengths[j]), topBits, 0, classed);
            }

            bool wins = classed.WrittenCount + margin < plain.WrittenCount;
            (wins ? plain : classed).Dispose();
            return wins ? (classed, parameterLength) : (plain, 0);
        }
        catch
        {
            plain.Dispose();
            classed.Dispose();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(grouped);
        }
    }

    /// <summary>Planes node: element size, each byte plane as a symbol leaf, then the partial tail element raw.</summary>
    private void EncodePlanes(ReadOnlySpan<byte> data, int elementSize, int rowLength, IBufferWriter<byte> output)
    {
        int count = data.Length / elementSize;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(data.Length);
        try
        {
            Span<byte> planes = buffer.AsSpan(0, data.Length);
            BytePlanes.Split(data, planes, elementSize);
            WriteByte(output, (byte)RecipeKind.Planes);
            WriteByte(output, (byte)elementSize);
            for (int k = 0; k < elementSize; k++)
            {
                // The top plane carries sign and exponent (or the high bits of integers): the row is its context.
                WriteSymbolsChild(planes.Slice(k * count, count), 8, k == elementSize - 1 ? rowLength : 0, output);
            }

            output.Write(planes[(count * elementSize)..]);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Dead-bits node: dtype, the plan's parameter block, the narrow stream as a child.</summary>
    private void EncodeDeadBits(ReadOnlySpan<byte> data, DType dtype, in DeadBitsPlan plan, int rowLength, int depth, IBufferWriter<byte> output)
    {
        int length = plan.NarrowLength;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            Span<byte> narrow = buffer.AsSpan(0, length);
            DeadBits.Forward(data, plan, narrow);
            WriteHeader(output, RecipeKind.DeadBits, dtype);
            plan.Write(output);
            int narrowRow = dtype == DType.C64 ? rowLength * 2 : rowLength;
            if (plan.NarrowDType is DType narrowDType)
            {
                WriteTypedChild(narrow, narrowDType, narrowRow, depth, output);
            }
            else if (plan.NarrowElementSize is >= 2 and <= 8)
            {
                using var child = new ArrayPoolBufferWriter<byte>(length + 64);
                EncodePlanes(narrow, plan.NarrowElementSize, narrowRow, child);
                WriteChild(output, child.WrittenSpan, length);
            }
            else
            {
                WriteSymbolsChild(narrow, 8, narrowRow, output);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Zero-mask node: dtype, the plan, the positions as symbols, the non-zero values as a typed child.</summary>
    private void EncodeZeroMask(ReadOnlySpan<byte> data, DType dtype, in ZeroMaskPlan plan, int depth, IBufferWriter<byte> output)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(plan.PositionsLength + plan.ValuesLength);
        try
        {
            Span<byte> positions = buffer.AsSpan(0, plan.PositionsLength);
            Span<byte> values = buffer.AsSpan(plan.PositionsLength, plan.ValuesLength);
            ZeroMask.Forward(data, plan, positions, values);
            WriteHeader(output, RecipeKind.ZeroMask, dtype);
            plan.Write(output);
            WriteSymbolsChild(positions, 8, 0, output);
            WriteTypedChild(values, dtype, 0, depth, output);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Plans a palette (byte-aligned indices) and appends its node; false when no palette is smaller.</summary>
    private bool TryEncodePalette(ReadOnlySpan<byte> data, DType dtype, int rowLength, int depth, IBufferWriter<byte> output)
    {
        int count = data.Length / dtype.ElementSize();
        long[] shape = rowLength > 0 ? [count / rowLength, rowLength] : [];
        if (!Palette.TryPlan(data, dtype, shape, out PalettePlan? plan, byteAlignedIndices: true))
        {
            return false;
        }

        EncodePalette(data, dtype, plan, rowLength, depth, output);
        return true;
    }

    /// <summary>Palette node: dtype, parameters, then group table (symbols), codebook (typed) and indices.</summary>
    private void EncodePalette(ReadOnlySpan<byte> data, DType dtype, PalettePlan plan, int rowLength, int depth, IBufferWriter<byte> output)
    {
        PaletteParameters p = plan.Parameters;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(p.IndicesLength);
        try
        {
            Span<byte> indices = buffer.AsSpan(0, p.IndicesLength);
            Palette.ForwardIndices(data, plan, indices);
            plan = AlignAffineGroups(plan, indices);
            p = plan.Parameters;
            WriteHeader(output, RecipeKind.Palette, dtype);
            p.Write(output);
            WriteSymbolsChild(plan.GroupTable, 8, 0, output);
            // A wide palette whose groups are all affine has a codebook of F32 scales only: code it as F32.
            bool scalesOnly = p.Layout == PaletteLayout.GroupedWide && p.CodebookEntries == Palette.WideScaleEntries * p.GroupCount;
            WriteCodebookChild(plan.Codebook, scalesOnly ? DType.F32 : dtype, depth, output);
            if (p.IndexBits == 16)
            {
                WriteTypedChild(indices, DType.U16, rowLength, depth, output);
            }
            else if (p.Layout != PaletteLayout.Global && p.IndexBits == 8 && depth + 1 < RecipeDecoder.MaxDepth)
            {
                using var child = new ArrayPoolBufferWriter<byte>(indices.Length + 64);
                EncodeAlignedIndices(indices, plan, rowLength, child);
                WriteChild(output, child.WrittenSpan, indices.Length);
            }
            else
            {
                // Byte-aligned indices of at most 8 bits: one symbol per element, in element order. A global
                // codebook over rows of different spread (INT codes with one scale per tensor): rows get classes.
                WriteSymbolsChild(indices, Math.Max(1, p.IndexBits), p.IndexBits == 8 ? rowLength : 0, output, ClassRowLength(p, rowLength));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // A sorted codebook (of many entries) is a slowly rising sequence of bit patterns: zigzag deltas turn it into
    // small numbers. Both forms are encoded (codebooks are small) and the smaller kept.
    private void WriteCodebookChild(ReadOnlySpan<byte> codebook, DType dtype, int depth, IBufferWriter<byte> output)
    {
        int size = dtype.ElementSize();
        if (codebook.Length < 16 * size || !ZigZagDelta.IsSupported(size) || depth + 2 >= RecipeDecoder.MaxDepth - 2)
        {
            WriteTypedChild(codebook, dtype, 0, depth, output);
            return;
        }

        using var plain = new ArrayPoolBufferWriter<byte>(codebook.Length + 64);
        EncodeTyped(codebook, dtype, 0, depth + 1, plain);
        using var delta = new ArrayPoolBufferWriter<byte>(codebook.Length + 64);
        EncodeDelta(codebook, size, depth + 1, delta);
        ReadOnlySpan<byte> chosen = delta.WrittenCount < plain.WrittenCount ? delta.WrittenSpan : plain.WrittenSpan;
        WriteChild(output, chosen, codebook.Length);
    }

    // Grouped 8-bit indices: shift each group so that its zero entry (the code of 0.0, or code 0 of an affine group)
    // has one common index, and keep that form when its order-0 bound plus the offsets beats the plain indices.
    private void EncodeAlignedIndices(ReadOnlySpan<byte> indices, PalettePlan plan, int rowLength, IBufferWriter<byte> output)
    {
        PaletteParameters p = plan.Parameters;
        int groups = p.GroupCount;
        int classRow = ClassRowLength(p, rowLength);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(groups + indices.Length);
        try
        {
            Span<byte> offsets = buffer.AsSpan(0, groups);
            Span<byte> shifted = buffer.AsSpan(groups, indices.Length);
            if (!ZeroIndexOffsets(plan, offsets))
            {
                EncodeSymbols(indices, 8, rowLength, output, classRowLength: classRow);
                return;
            }

            GroupShift.Forward(indices, offsets, p.GroupLength, shifted);
            Span<uint> counts = stackalloc uint[256];
            RansCodec.CountOrder0(indices, counts);
            long plainCost = StreamStats.Order0CostQ16(counts);
            RansCodec.CountOrder0(shifted, counts);
            long shiftedCost = StreamStats.Order0CostQ16(counts) + ((long)groups * 8 * FixedLog2.One);
            if (shiftedCost >= plainCost)
            {
                EncodeSymbols(indices, 8, rowLength, output, classRowLength: classRow);
                return;
            }

            WriteByte(output, (byte)RecipeKind.GroupShift);
            VarInt.Write(output, (ulong)p.GroupLength);
            WriteSymbolsChild(offsets, 8, 0, output);
            WriteSymbolsChild(shifted, 8, rowLength, output, classRow);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // The rows whose index distributions may differ: a grouped palette's groups (each has its own scale or
    // codebook), else the tensor's rows; 0 when neither is known.
    private static int ClassRowLength(PaletteParameters p, int rowLength) =>
        p.Layout == PaletteLayout.Global ? rowLength : p.GroupLength;

    // Affine groups (c0 + index) · s place code 0 at index −c0, which moves with each group's smallest code. Lowering
    // every affine group's c0 to the smallest c0 of all moves their indices up to one common zero index: what a
    // GroupShift does, but with no offset per group and a group table that repeats one descriptor. Done when the
    // shifted indices have the lower order-0 cost, every group that would move is affine and no index leaves 8 bits;
    // the indices are shifted in place. Returns the plan to write (the same plan when nothing changes).
    private static PalettePlan AlignAffineGroups(PalettePlan plan, Span<byte> indices)
    {
        PaletteParameters p = plan.Parameters;
        if (p.Layout == PaletteLayout.Global || p.IndexBits != 8)
        {
            return plan;
        }

        int groups = p.GroupCount;
        byte[] offsets = new byte[groups];
        if (!ZeroIndexOffsets(plan, offsets) || offsets.AsSpan().IndexOfAnyExcept((byte)0) < 0)
        {
            return plan;
        }

        // The new table: affine descriptors with c0 lowered by the group's offset, the others unchanged (they must
        // not move).
        FloatFormat? format = p.Layout == PaletteLayout.GroupedWide ? FloatFormat.F32 : FloatFormat.Of(p.DType);
        long maxCode = format is { } f ? FloatBits.MaxCode(f) : 0;
        var table = new SpanReader(plan.GroupTable);
        byte[] aligned = new byte[Math.Max(plan.GroupTable.Length, groups * Palette.MaxDescriptorLength)];
        int at = 0;
        for (int g = 0; g < groups; g++)
        {
            ulong descriptor = table.ReadVarUInt64();
            if ((descriptor & 1) == 0)
            {
                if (offsets[g] != 0)
                {
                    return plan;
                }

                at += VarInt.Write(aligned.AsSpan(at), descriptor);
                continue;
            }

            ulong zigzag = descriptor >> 1;
            long c0 = ((long)(zigzag >> 1) ^ -(long)(zigzag & 1)) - offsets[g];
            if (c0 < -maxCode)
            {
                return plan;
            }

            at += VarInt.Write(aligned.AsSpan(at), ((ulong)((c0 << 1) ^ (c0 >> 63)) << 1) | 1);
        }

        if (at > 4 * groups)
        {
            return plan;
        }

        Span<uint> counts = stackalloc uint[256];
        RansCodec.CountOrder0(indices, counts);
        long plainCost = StreamStats.Order0CostQ16(counts);
        counts.Clear();
        for (int g = 0; g < groups; g++)
        {
            int start = g * p.GroupLength;
            byte offset = offsets[g];
            foreach (byte index in indices.Slice(start, Math.Min(p.GroupLength, indices.Length - start)))
            {
                if (index + offset > byte.MaxValue)
                {
                    return plan;
                }

                counts[index + offset]++;
            }
        }

        if (StreamStats.Order0CostQ16(counts) >= plainCost)
        {
            return plan;
        }

        GroupShift.Forward(indices, offsets, p.GroupLength, indices);
        var parameters = new PaletteParameters(p.Layout, p.DType, p.ElementCount, p.IndexBits, p.CodebookEntries, p.GroupLength, at);
        return new PalettePlan(parameters, plan.Codebook.ToArray(), aligned.AsSpan(0, at).ToArray());
    }

    // Per group, the index of its zero value; the offset moves it to the largest such index over all groups.
    // Groups without a zero keep offset 0. False when no group has a zero (nothing to align).
    private static bool ZeroIndexOffsets(PalettePlan plan, Span<byte> offsets)
    {
        PaletteParameters p = plan.Parameters;
        int size = p.ElementSize;
        var table = new SpanReader(plan.GroupTable);
        ReadOnlySpan<byte> codebook = plan.Codebook;
        Span<int> zeroIndex = offsets.Length <= 4096 ? stackalloc int[offsets.Length] : new int[offsets.Length];
        int entry = 0;
        int target = -1;
        for (int g = 0; g < offsets.Length; g++)
        {
            ulong descriptor = table.ReadVarUInt64();
            int z = -1;
            if ((descriptor & 1) == 0)
            {
                int entries = (int)(descriptor >> 1) + 1;
                for (int e = 0; e < entries; e++)
                {
                    if (codebook.Slice((entry + e) * size, size).IndexOfAnyExcept((byte)0) < 0)
                    {
                        z = e;
                        break;
                    }
                }

                entry += entries;
            }
            else
            {
                ulong zigzag = descriptor >> 1;
                long c0 = (long)(zigzag >> 1) ^ -(long)(zigzag & 1);
                z = c0 <= 0 && -c0 < 256 ? (int)-c0 : -1;
                entry += p.Layout == PaletteLayout.GroupedWide ? Palette.WideScaleEntries : 1;
            }

            zeroIndex[g] = z;
            target = Math.Max(target, z);
        }

        if (target < 0)
        {
            return false;
        }

        for (int g = 0; g < offsets.Length; g++)
        {
            offsets[g] = zeroIndex[g] < 0 ? (byte)0 : (byte)(target - zeroIndex[g]);
        }

        return true;
    }

    /// <summary>Delta node: element size, then the zigzag deltas as a child (byte planes for wide elements).</summary>
    private void EncodeDelta(ReadOnlySpan<byte> data, int elementSize, int depth, IBufferWriter<byte> output)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(data.Length);
        try
        {
            Span<byte> deltas = buffer.AsSpan(0, data.Length);
            ZigZagDelta.Forward(data, deltas, elementSize);
            WriteByte(output, (byte)RecipeKind.Delta);
            WriteByte(output, (byte)elementSize);
            if (elementSize == 1)
            {
                WriteSymbolsChild(deltas, 8, 0, output);
                return;
            }

            using var child = new ArrayPoolBufferWriter<byte>(data.Length + 64);
            EncodePlanes(deltas, elementSize, 0, child);
            WriteChild(output, child.WrittenSpan, data.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Negative-zero node: dtype, zero count, the sign bits of the zero elements, then the values with every -0.0
    /// made +0.0 as a typed child (where a palette can now see exact integer codes). False when the cleaned values
    /// give no palette.
    /// </summary>
    private bool TryEncodeNegativeZero(ReadOnlySpan<byte> data, DType dtype, int rowLength, int depth, IBufferWriter<byte> output)
    {
        int size = dtype.ElementSize();
        int count = data.Length / size;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(data.Length + ((count + 7) / 8));
        try
        {
            Span<byte> cleaned = buffer.AsSpan(0, data.Length);
            Span<byte> signs = buffer.AsSpan(data.Length, (count + 7) / 8);
            int zeros = NegativeZeros.Split(data, size, cleaned, signs);
            if (!PaletteMayPay(cleaned, dtype, size, count, rowLength))
            {
                return false;
            }

            using var palette = new ArrayPoolBufferWriter<byte>((data.Length / 2) + 64);
            if (!TryEncodePalette(cleaned, dtype, rowLength, depth + 1, palette))
            {
                return false;
            }

            WriteHeader(output, RecipeKind.NegativeZero, dtype);
            VarInt.Write(output, (ulong)zeros);
            WriteSymbolsChild(signs[..((zeros + 7) / 8)], 8, 0, output);
            WriteChild(output, palette.WrittenSpan, data.Length);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Integer-pack node: dtype, plan, the packed stream as a child (typed when whole bytes wide).</summary>
    private void EncodeIntPack(ReadOnlySpan<byte> data, DType dtype, in IntPackPlan plan, int depth, IBufferWriter<byte> output)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(plan.PackedLength);
        try
        {
            Span<byte> packed = buffer.AsSpan(0, plan.PackedLength);
            IntPack.Forward(data, plan, packed);
            WriteHeader(output, RecipeKind.IntPack, dtype);
            plan.Write(output);
            DType? narrow = plan.Bits switch
            {
                16 => DType.U16,
                32 => DType.U32,
                64 => DType.U64,
                _ => null,
            };

            if (narrow is DType typed && depth + 1 < RecipeDecoder.MaxDepth - 2)
            {
                using var child = new ArrayPoolBufferWriter<byte>(packed.Length + 64);
                EncodePlanes(packed, typed.ElementSize(), 0, child);
                WriteChild(output, child.WrittenSpan, packed.Length);
            }
            else
            {
                WriteSymbolsChild(packed, 8, 0, output);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Bool-pack node: dtype, then the packed bits (eight elements per byte) as a symbol leaf.</summary>
    private int EncodeBoolPack(ReadOnlySpan<byte> data, DType dtype, in BoolPackPlan plan, IBufferWriter<byte> output)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(plan.PackedLength);
        try
        {
            Span<byte> packed = buffer.AsSpan(0, plan.PackedLength);
            BoolPack.Forward(data, plan, packed);
            using var child = new ArrayPoolBufferWriter<byte>(packed.Length + 64);
            EncodeSymbols(packed, 8, 0, child);
            WriteHeader(output, RecipeKind.BoolPack, dtype);
            WriteChild(output, child.WrittenSpan, packed.Length);
            return 2 + VarInt.GetLength((ulong)child.WrittenCount) + child.WrittenCount;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Rows shorter than this do not get their own exponent offset (the offsets would cost too much).</summary>
    internal const int MinRowForExponentShift = 256;

    // Rows of a weight matrix have their own scale, which moves the whole row's exponents up or down by an octave
    // or two. Shifting each row so that its most frequent exponent lands on one value (a GroupShift node over the
    // exponent stream) narrows the distribution a static order-0 table sees; kept only when its order-0 bound, plus
    // a byte per row, saves at least 0.5%.
    private void EncodeExponents(ReadOnlySpan<byte> exponents, int rowLength, IBufferWriter<byte> output)
    {
        int rows = (int)(((long)exponents.Length + rowLength - 1) / rowLength);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(rows + exponents.Length);
        try
        {
            Span<byte> offsets = buffer.AsSpan(0, rows);
            Span<byte> shifted = buffer.AsSpan(rows, exponents.Length);
            Span<uint> counts = stackalloc uint[256];
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<byte> row = exponents.Slice(r * rowLength, Math.Min(rowLength, exponents.Length - (r * rowLength)));
                RansCodec.CountOrder0(row, counts);
                int mode = 0;
                for (int e = 1; e < 256; e++)
                {
                    mode = counts[e] > counts[mode] ? e : mode;
                }

                offsets[r] = (byte)(128 - mode);
            }

            GroupShift.Forward(exponents, offsets, rowLength, shifted);
            RansCodec.CountOrder0(exponents, counts);
            long plainCost = StreamStats.Order0CostQ16(counts);
            RansCodec.CountOrder0(shifted, counts);
            long shiftedCost = StreamStats.Order0CostQ16(counts) + ((long)rows * 8 * FixedLog2.One);
            if (shiftedCost * 1000 > plainCost * 995)
            {
                EncodeSymbols(exponents, 8, rowLength, output, classRowLength: rowLength, maxRowClasses: _profile.MaxExponentRowClasses);
                return;
            }

            WriteByte(output, (byte)RecipeKind.GroupShift);
            VarInt.Write(output, (ulong)rowLength);
            WriteSymbolsChild(offsets, 8, 0, output);
            WriteSymbolsChild(shifted, 8, rowLength, output, rowLength, _profile.MaxExponentRowClasses);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
