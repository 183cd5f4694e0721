using System.Buffers;
using Z4Ai.Internal;

namespace Z4Ai.Transforms;

/// <summary>Whether a palette has one codebook or one per group. The values are part of the file format.</summary>
internal enum PaletteLayout : byte
{
    /// <summary>One sorted codebook for all elements.</summary>
    Global = 0,

    /// <summary>Consecutive groups of <see cref="PaletteParameters.GroupLength"/> elements (the last may be shorter),
    /// each with its own codebook or affine rule.</summary>
    Grouped = 1,

    /// <summary>As <see cref="Grouped"/>, for BF16 and F16 only, but an affine group's scale is an F32 held in the
    /// next <see cref="Palette.WideScaleEntries"/> codebook entries and its elements are the F32 products rounded to
    /// the dtype (integer codes dequantised through F32, then narrowed).</summary>
    GroupedWide = 2,
}

/// <summary>The parameters of a <see cref="Palette"/> frame: everything the decoder needs to size and check the streams.</summary>
/// <remarks>
/// <para>Parameter block: <c>u8 layout</c>, <c>u8 indexBits</c> (0..16, at most 8 for one-byte elements),
/// <c>varint codebookEntries</c>, and for the grouped layouts also <c>varint groupLength</c> and
/// <c>varint groupTableLength</c>.</para>
/// <para>Three streams follow, in this order. <b>Group table</b> (grouped only, <c>groupTableLength</c> bytes): one
/// unsigned LEB128 descriptor per group. An even descriptor <c>2*(d-1)</c> is a palette group whose codebook is the
/// next <c>d</c> entries (1 &lt;= d &lt;= group length). An odd descriptor <c>2*zigzag(c0)+1</c> is an affine group:
/// the next single entry is a float scale s, and element = the correctly rounded product <c>(c0 + index) * s</c>
/// (see <see cref="FloatBits.TryMultiply"/>; float dtypes only). In <see cref="PaletteLayout.GroupedWide"/> the
/// affine scale takes two entries (the little-endian bytes of an F32) and element = the F32 product rounded to the
/// dtype (<see cref="FloatBits.TryMultiplyWide"/>). <b>Codebook</b> (<c>codebookEntries</c> elements
/// of the dtype, little-endian): the entries in group order; a palette codebook is sorted by numeric value.
/// <b>Indices</b>: one index per element, <see cref="BitPacking"/> at <c>indexBits</c> bits, <c>ceil(n*indexBits/8)</c>
/// bytes; an index must be below its group's entry count (palette) or keep <c>c0 + index</c> within the code range.</para>
/// </remarks>
internal readonly struct PaletteParameters
{
    internal PaletteParameters(
        PaletteLayout layout, DType dtype, int elementCount, int indexBits, int codebookEntries, int groupLength, int groupTableLength)
    {
        Layout = layout;
        DType = dtype;
        ElementSize = dtype.ElementSize();
        ElementCount = elementCount;
        IndexBits = indexBits;
        CodebookEntries = codebookEntries;
        GroupLength = layout != PaletteLayout.Global ? groupLength : elementCount;
        GroupTableLength = layout != PaletteLayout.Global ? groupTableLength : 0;
    }

    /// <summary>Global or grouped.</summary>
    public PaletteLayout Layout { get; }

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>Bytes per element.</summary>
    public int ElementSize { get; }

    /// <summary>Elements in the raw data.</summary>
    public int ElementCount { get; }

    /// <summary>Bits per packed index.</summary>
    public int IndexBits { get; }

    /// <summary>Entries in the codebook stream (all groups together).</summary>
    public int CodebookEntries { get; }

    /// <summary>Elements per group (the whole tensor for <see cref="PaletteLayout.Global"/>).</summary>
    public int GroupLength { get; }

    /// <summary>Bytes of the group table stream (0 for <see cref="PaletteLayout.Global"/>).</summary>
    public int GroupTableLength { get; }

    /// <summary>Number of groups.</summary>
    public int GroupCount => GroupLength == 0 ? 0 : (int)(((long)ElementCount + GroupLength - 1) / GroupLength);

    /// <summary>Bytes of the codebook stream.</summary>
    public int CodebookLength => CodebookEntries * ElementSize;

    /// <summary>Bytes of the index stream.</summary>
    public int IndicesLength => (int)BitPacking.GetPackedLength(ElementCount, IndexBits);

    /// <summary>Bytes of the parameter block.</summary>
    public int ParametersLength => 2 + VarInt.GetLength((ulong)CodebookEntries)
        + (Layout != PaletteLayout.Global ? VarInt.GetLength((ulong)GroupLength) + VarInt.GetLength((ulong)GroupTableLength) : 0);

    /// <summary>The exact size of <see cref="Palette.Encode"/>'s output.</summary>
    public long EstimatedSize => (long)ParametersLength + GroupTableLength + CodebookLength + IndicesLength;

    /// <summary>Appends the parameter block.</summary>
    public void Write(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Span<byte> span = output.GetSpan(2);
        span[0] = (byte)Layout;
        span[1] = (byte)IndexBits;
        output.Advance(2);
        VarInt.Write(output, (ulong)CodebookEntries);
        if (Layout != PaletteLayout.Global)
        {
            VarInt.Write(output, (ulong)GroupLength);
            VarInt.Write(output, (ulong)GroupTableLength);
        }
    }

    /// <summary>Reads and validates a parameter block for <paramref name="rawLength"/> bytes of <paramref name="dtype"/>.</summary>
    /// <exception cref="Z4AiFormatException">The block is truncated or its sizes cannot describe the data.</exception>
    public static PaletteParameters Read(ref SpanReader reader, DType dtype, int rawLength)
    {
        int start = reader.Position;
        int size = dtype.ElementSize();
        if (size == 0 || rawLength == 0 || rawLength % size != 0)
        {
            ThrowHelper.CorruptFrame($"palette frame cannot hold {rawLength} bytes of {dtype.GetName()}", start);
        }

        int count = rawLength / size;
        var layout = (PaletteLayout)reader.ReadByte();
        int bits = reader.ReadByte();
        if (layout is not (PaletteLayout.Global or PaletteLayout.Grouped or PaletteLayout.GroupedWide) || bits > Palette.MaxIndexBitsFor(size)
            || (layout == PaletteLayout.GroupedWide && !Palette.HasWideScales(dtype)))
        {
            ThrowHelper.CorruptFrame($"palette layout {(byte)layout} with {bits}-bit indices does not apply to {dtype.GetName()}", start);
        }

        // A group cannot need more entries than it has elements, so the codebook is never longer than the raw data.
        int entries = reader.ReadVarInt32(count);
        if (entries == 0)
        {
            ThrowHelper.CorruptFrame("palette codebook is empty", start);
        }

        if (layout == PaletteLayout.Global)
        {
            if (entries > Palette.MaxEntries)
            {
                ThrowHelper.CorruptFrame($"palette codebook has {entries} entries, more than {Palette.MaxEntries}", start);
            }

            return new PaletteParameters(layout, dtype, count, bits, entries, count, 0);
        }

        int groupLength = reader.ReadVarInt32(count);
        if (groupLength == 0)
        {
            ThrowHelper.CorruptFrame("palette group length is zero", start);
        }

        int groups = (int)(((long)count + groupLength - 1) / groupLength);
        int tableLength = reader.ReadVarInt32((int)Math.Min(int.MaxValue, (long)groups * Palette.MaxDescriptorLength));
        if (tableLength < groups || entries < groups)
        {
            ThrowHelper.CorruptFrame($"palette has {groups} groups but a {tableLength}-byte group table and {entries} entries", start);
        }

        return new PaletteParameters(layout, dtype, count, bits, entries, groupLength, tableLength);
    }
}
