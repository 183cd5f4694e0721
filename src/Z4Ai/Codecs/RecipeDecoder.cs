using System.Buffers;
using Z4Ai.Entropy;
using Z4Ai.Internal;
using Z4Ai.Planes;
using Z4Ai.Transforms;

namespace Z4Ai.Codecs;

/// <summary>
/// Decodes a recipe tree (the payload of a <see cref="CodecId.Recipe"/> frame) into exactly the bytes it describes.
/// </summary>
/// <remarks>
/// <para>Every node is read with its expected output length already known, so nothing is allocated before a length
/// has been checked: a child's length is computed from its parent's parameters, and those are validated against
/// the parent's own length by the transform's <c>Read</c> method. Intermediate streams come from the array pool
/// and never exceed a small multiple of the frame's raw length (a palette group table at most four bytes per
/// group). Recursion stops at <see cref="MaxDepth"/>, so a hostile frame cannot exhaust the stack.</para>
/// <para>Anything inconsistent (an unknown kind, dtype or method, a length that does not match, trailing bytes)
/// raises <see cref="Z4AiFormatException"/> with <see cref="Z4AiErrorKind.CorruptFrame"/>.</para>
/// </remarks>
internal static class RecipeDecoder
{
    /// <summary>The deepest nesting a frame may use (the encoder needs at most 5: dead bits, zero mask, palette,
    /// planes, leaf).</summary>
    public const int MaxDepth = 8;

    /// <summary>Decodes the node in <paramref name="node"/> into exactly <paramref name="destination"/>.</summary>
    public static void Decode(ReadOnlySpan<byte> node, Span<byte> destination) => DecodeNode(node, destination, 0);

    private static void DecodeNode(ReadOnlySpan<byte> node, Span<byte> destination, int depth)
    {
        if (depth > MaxDepth)
        {
            ThrowHelper.CorruptFrame($"recipe nests deeper than {MaxDepth} levels");
        }

        var reader = new SpanReader(node);
        var kind = (RecipeKind)reader.ReadByte();
        switch (kind)
        {
            case RecipeKind.Stored:
                if (reader.Remaining != destination.Length)
                {
                    ThrowHelper.CorruptFrame($"stored node holds {reader.Remaining} bytes, expected {destination.Length}");
                }

                reader.Rest.CopyTo(destination);
                break;
            case RecipeKind.Zstd:
                ZstdBackend.Decompress(reader.Rest, destination);
                break;
            case RecipeKind.Entropy:
                DecodeEntropy(ref reader, destination);
                break;
            case RecipeKind.Fields:
                DecodeFields(ref reader, destination, depth, classed: false);
                break;
            case RecipeKind.ClassedFields:
                DecodeFields(ref reader, destination, depth, classed: true);
                break;
            case RecipeKind.Planes:
                DecodePlanes(ref reader, destination, depth);
                break;
            case RecipeKind.DeadBits:
                DecodeDeadBits(ref reader, destination, depth);
                break;
            case RecipeKind.Palette:
                DecodePalette(ref reader, destination, depth);
                break;
            case RecipeKind.ZeroMask:
                DecodeZeroMask(ref reader, destination, depth);
                break;
            case RecipeKind.IntPack:
                DecodeIntPack(ref reader, destination, depth);
                break;
            case RecipeKind.BoolPack:
                DecodeBoolPack(ref reader, destination, depth);
                break;
            case RecipeKind.NegativeZero:
                DecodeNegativeZero(ref reader, destination, depth);
                break;
            case RecipeKind.GroupShift:
                DecodeGroupShift(ref reader, destination, depth);
                break;
            case RecipeKind.Delta:
                DecodeDelta(ref reader, destination, depth);
                break;
            case RecipeKind.ArchiveModel:
                ArchiveStreams.Decode(reader.Rest, destination);
                break;
            default:
                ThrowHelper.CorruptFrame($"unknown recipe node kind {(byte)kind}", 0);
                break;
        }
    }

    /// <summary>Reads an entropy node's parameters: method, alphabet bits and (context mixing and row classes only) the row length.</summary>
    internal static (EntropyMethod Method, int AlphabetBits, int RowLength) ReadEntropyParameters(ref SpanReader reader, int symbolCount)
    {
        var method = (EntropyMethod)reader.ReadByte();
        int bits = reader.ReadByte();
        if (method is not (EntropyMethod.RansOrder0 or EntropyMethod.RansOrder1 or EntropyMethod.ContextMixing or EntropyMethod.RansRowClasses
            or EntropyMethod.RansOrder0Wide or EntropyMethod.RansRowClassesWide) || bits is < 1 or > 8)
        {
            ThrowHelper.CorruptFrame($"entropy node has method {(byte)method} and {bits} alphabet bits", reader.Position - 2);
        }

        int rowAt = reader.Position;
        int rowLength = method is EntropyMethod.ContextMixing or EntropyMethod.RansRowClasses or EntropyMethod.RansRowClassesWide ? reader.ReadVarInt32(symbolCount) : 0;
        if (method is EntropyMethod.RansRowClasses or EntropyMethod.RansRowClassesWide && rowLength == 0)
        {
            ThrowHelper.CorruptFrame("row-class entropy node has row length 0", rowAt);
        }

        if (symbolCount > EntropyCoder.MaxSymbols)
        {
            ThrowHelper.CorruptFrame($"entropy node codes {symbolCount} symbols, more than {EntropyCoder.MaxSymbols}");
        }

        return (method, bits, rowLength);
    }

    /// <summary>Reads a node's dtype byte, which must name a defined dtype accepted by <paramref name="accept"/>.</summary>
    internal static DType ReadDType(ref SpanReader reader, Func<DType, bool> accept, string what)
    {
        int at = reader.Position;
        byte value = reader.ReadByte();
        var dtype = (DType)value;
        if (value >= DTypeInfo.Count || !accept(dtype))
        {
            ThrowHelper.CorruptFrame($"{what} node does not apply to dtype {value}", at);
        }

        return dtype;
    }

    /// <summary>The child's bytes: nothing for an empty stream, else a varint length and that many bytes.</summary>
    internal static ReadOnlySpan<byte> ReadChild(ref SpanReader reader, int rawLength)
    {
        if (rawLength == 0)
        {
            return [];
        }

        int length = reader.ReadVarInt32(reader.Remaining);
        if (length == 0)
        {
            ThrowHelper.CorruptFrame("recipe child node is empty", reader.Position);
        }

        return reader.ReadBytes(length);
    }

    private static void DecodeChild(ref SpanReader reader, Span<byte> destination, int depth)
    {
        ReadOnlySpan<byte> child = ReadChild(ref reader, destination.Length);
        if (!destination.IsEmpty)
        {
            DecodeNode(child, destination, depth + 1);
        }
    }

    private static void ExpectEnd(in SpanReader reader, string what)
    {
        if (reader.Remaining != 0)
        {
            ThrowHelper.CorruptFrame($"{what} node has {reader.Remaining} trailing bytes", reader.Position);
        }
    }

    private static void DecodeEntropy(ref SpanReader reader, Span<byte> destination)
    {
        (EntropyMethod method, int bits, int rowLength) = ReadEntropyParameters(ref reader, destination.Length);
        EntropyCoder.Decode(reader.Rest, method, bits, rowLength, destination);
    }

    // A stored child is used where it lies in the frame instead of being copied out first: dense weights keep
    // their near-random mantissa planes stored, so this saves a copy of most of the chunk.
    private static ReadOnlySpan<byte> DecodeChildOrView(ref SpanReader reader, Span<byte> scratch, int depth)
    {
        ReadOnlySpan<byte> child = ReadChild(ref reader, scratch.Length);
        if (scratch.IsEmpty)
        {
            return [];
        }

        if (child.Length == scratch.Length + 1 && child[0] == (byte)RecipeKind.Stored)
        {
            return child[1..];
        }

        DecodeNode(child, scratch, depth + 1);
        return scratch;
    }

    private static void DecodeFields(ref SpanReader reader, Span<byte> destination, int depth, bool classed)
    {
        DType dtype = ReadDType(ref reader, FloatFields.IsSupported, classed ? "classed fields" : "fields");
        int size = dtype.ElementSize();
        if (destination.Length % size != 0)
        {
            ThrowHelper.CorruptFrame($"fields node cannot hold {destination.Length} bytes of {dtype.GetName()}");
        }

        int count = destination.Length / size;
        ExponentClasses? classes = classed ? ExponentClasses.Read(ref reader, dtype) : null;
        int[]? lengths = classes?.ReadLengths(ref reader, count);
        int planes = FloatFields.GetPlaneCount(dtype);
        byte[] buffer = ArrayPool<byte>.Shared.Rent((planes + (classed ? 2 : 1)) * count);
        try
        {
            ReadOnlySpan<byte> exponents = DecodeChildOrView(ref reader, buffer.AsSpan(0, count), depth);
            if (planes == 1 && classes is null)
            {
                // One plane (BF16): merge straight from wherever it lies.
                ReadOnlySpan<byte> plane = DecodeChildOrView(ref reader, buffer.AsSpan(count, count), depth);
                ExpectEnd(reader, "fields");
                FloatFields.Merge(dtype, exponents, plane, destination);
                return;
            }

            Span<byte> signMantissa = buffer.AsSpan(count, planes * count);
            for (int k = 0; k < planes - 1; k++)
            {
                DecodeChild(ref reader, signMantissa.Slice(k * count, count), depth);
            }

            Span<byte> top = signMantissa.Slice((planes - 1) * count, count);
            if (classes is null)
            {
                DecodeChild(ref reader, top, depth);
            }
            else
            {
                // One child per class, each the class's top-plane bytes in element order; the declared lengths
                // must be the ones the exponents just decoded give.
                Span<int> counted = stackalloc int[classes.Count];
                classes.CountClasses(exponents, counted);
                if (!counted.SequenceEqual(lengths))
                {
                    ThrowHelper.CorruptFrame("classed fields node's class lengths do not match its exponent stream");
                }

                Span<byte> grouped = buffer.AsSpan((planes + 1) * count, count);
                for (int j = 0, start = 0; j < classes.Count; start += lengths[j], j++)
                {
                    DecodeChild(ref reader, grouped.Slice(start, lengths![j]), depth);
                }

                classes.Gather(exponents, grouped, lengths, top);
            }

            ExpectEnd(reader, classed ? "classed fields" : "fields");
            FloatFields.Merge(dtype, exponents, signMantissa, destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void DecodePlanes(ref SpanReader reader, Span<byte> destination, int depth)
    {
        int elementSize = reader.ReadByte();
        if (elementSize is < 2 or > 8)
        {
            ThrowHelper.CorruptFrame($"planes node has element size {elementSize}, expected 2 to 8", reader.Position - 1);
        }

        int count = destination.Length / elementSize;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(destination.Length);
        try
        {
            Span<byte> planes = buffer.AsSpan(0, destination.Length);
            for (int k = 0; k < elementSize; k++)
            {
                DecodeChild(ref reader, planes.Slice(k * count, count), depth);
            }

            int whole = count * elementSize;
            reader.ReadBytes(destination.Length - whole).CopyTo(planes[whole..]);
            ExpectEnd(reader, "planes");
            BytePlanes.Merge(planes, destination, elementSize);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void DecodeDeadBits(ref SpanReader reader, Span<byte> destination, int depth)
    {
        DType dtype = ReadDType(ref reader, d => DeadBits.LaneBytesOf(d) != 0, "dead-bits");
        DeadBitsPlan plan = DeadBitsPlan.Read(ref reader, dtype, destination.Length);
        int length = plan.NarrowLength;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            Span<byte> narrow = buffer.AsSpan(0, length);
            DecodeChild(ref reader, narrow, depth);
            ExpectEnd(reader, "dead-bits");
            DeadBits.Inverse(narrow, plan, destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void DecodePalette(ref SpanReader reader, Span<byte> destination, int depth)
    {
        DType dtype = ReadDType(ref reader, d => d.ElementSize() != 0, "palette");
        PaletteParameters p = PaletteParameters.Read(ref reader, dtype, destination.Length);
        int total = p.GroupTableLength + p.CodebookLength + p.IndicesLength;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(total);
        try
        {
            Span<byte> table = buffer.AsSpan(0, p.GroupTableLength);
            Span<byte> codebook = buffer.AsSpan(p.GroupTableLength, p.CodebookLength);
            Span<byte> indices = buffer.AsSpan(p.GroupTableLength + p.CodebookLength, p.IndicesLength);
            DecodeChild(ref reader, table, depth);
            DecodeChild(ref reader, codebook, depth);
            DecodeChild(ref reader, indices, depth);
            ExpectEnd(reader, "palette");
            Palette.Inverse(p, table, codebook, indices, destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void DecodeZeroMask(ref SpanReader reader, Span<byte> destination, int depth)
    {
        DType dtype = ReadDType(ref reader, d => d.ElementSize() != 0, "zero-mask");
        ZeroMaskPlan plan = ZeroMaskPlan.Read(ref reader, dtype, destination.Length);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(plan.PositionsLength + plan.ValuesLength);
        try
        {
            Span<byte> positions = buffer.AsSpan(0, plan.PositionsLength);
            Span<byte> values = buffer.AsSpan(plan.PositionsLength, plan.ValuesLength);
            DecodeChild(ref reader, positions, depth);
            DecodeChild(ref reader, values, depth);
            ExpectEnd(reader, "zero-mask");
            ZeroMask.Inverse(positions, values, plan, destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void DecodeIntPack(ref SpanReader reader, Span<byte> destination, int depth)
    {
        DType dtype = ReadDType(ref reader, IntPack.IsApplicable, "integer-pack");
        IntPackPlan plan = IntPackPlan.Read(ref reader, dtype, destination.Length);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(plan.PackedLength);
        try
        {
            Span<byte> packed = buffer.AsSpan(0, plan.PackedLength);
            DecodeChild(ref reader, packed, depth);
            ExpectEnd(reader, "integer-pack");
            IntPack.Inverse(packed, plan, destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void DecodeBoolPack(ref SpanReader reader, Span<byte> destination, int depth)
    {
        DType dtype = ReadDType(ref reader, BoolPack.IsApplicable, "bool-pack");
        BoolPackPlan plan = BoolPackPlan.Read(ref reader, dtype, destination.Length);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(plan.PackedLength);
        try
        {
            Span<byte> packed = buffer.AsSpan(0, plan.PackedLength);
            DecodeChild(ref reader, packed, depth);
            ExpectEnd(reader, "bool-pack");
            BoolPack.Inverse(packed, plan, destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>True for the dtypes a negative-zero node applies to: IEEE floats with the sign in the top bit.</summary>
    internal static bool HasSignedZero(DType dtype) => dtype is DType.BF16 or DType.F16 or DType.F32 or DType.F64;

    private static void DecodeNegativeZero(ref SpanReader reader, Span<byte> destination, int depth)
    {
        DType dtype = ReadDType(ref reader, HasSignedZero, "negative-zero");
        int size = dtype.ElementSize();
        if (destination.Length % size != 0)
        {
            ThrowHelper.CorruptFrame($"negative-zero node cannot hold {destination.Length} bytes of {dtype.GetName()}");
        }

        int count = destination.Length / size;
        int zeros = reader.ReadVarInt32(count);
        int signLength = (int)(((long)zeros + 7) / 8);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(signLength);
        try
        {
            Span<byte> signs = buffer.AsSpan(0, signLength);
            DecodeChild(ref reader, signs, depth);
            DecodeChild(ref reader, destination, depth);
            ExpectEnd(reader, "negative-zero");
            if (!BitPacking.HasZeroPadding(signs, zeros, 1))
            {
                ThrowHelper.CorruptFrame("negative-zero sign stream has non-zero padding bits");
            }

            if (!NegativeZeros.Restore(destination, size, signs, zeros))
            {
                ThrowHelper.CorruptFrame($"negative-zero node declares {zeros} zero elements, the values hold a different number");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void DecodeGroupShift(ref SpanReader reader, Span<byte> destination, int depth)
    {
        int groupLength = reader.ReadVarInt32(Math.Max(1, destination.Length));
        if (groupLength == 0)
        {
            ThrowHelper.CorruptFrame("group-shift node has a group length of zero");
        }

        int groups = (int)(((long)destination.Length + groupLength - 1) / groupLength);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(groups);
        try
        {
            Span<byte> offsets = buffer.AsSpan(0, groups);
            DecodeChild(ref reader, offsets, depth);
            DecodeChild(ref reader, destination, depth);
            ExpectEnd(reader, "group-shift");
            GroupShift.Inverse(destination, offsets, groupLength);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void DecodeDelta(ref SpanReader reader, Span<byte> destination, int depth)
    {
        int size = reader.ReadByte();
        if (!ZigZagDelta.IsSupported(size) || destination.Length % size != 0)
        {
            ThrowHelper.CorruptFrame($"delta node has element size {size} for {destination.Length} bytes", reader.Position - 1);
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(destination.Length);
        try
        {
            Span<byte> deltas = buffer.AsSpan(0, destination.Length);
            DecodeChild(ref reader, deltas, depth);
            ExpectEnd(reader, "delta");
            ZigZagDelta.Inverse(deltas, destination, size);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
