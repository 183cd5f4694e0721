using System.Buffers;
using Z4Ai.Internal;

namespace Z4Ai.Transforms;

/// <summary>How <see cref="IntPack"/> turns integers into small unsigned values. The values are part of the file format.</summary>
internal enum IntPackMode : byte
{
    /// <summary>Frame of reference: <c>u_i = v_i - min</c>.</summary>
    FrameOfReference = 0,

    /// <summary>Deltas with a frame of reference: <c>u_i = (v_i - v_(i-1)) - minDelta</c> for i &gt;= 1.</summary>
    Delta = 1,
}

/// <summary>The parameters of an <see cref="IntPack"/> frame.</summary>
/// <remarks>
/// Parameter block: <c>u8 mode</c>, <c>u8 bits</c> (0..element bits), then <c>reference</c> as one little-endian
/// element (the minimum for <see cref="IntPackMode.FrameOfReference"/>, the first element for
/// <see cref="IntPackMode.Delta"/>), and for Delta <c>minDelta</c> as one little-endian element. The stream that
/// follows is the values <c>u_i</c> (n of them, or n - 1 for Delta) packed with <see cref="BitPacking"/> at
/// <c>bits</c> bits. All arithmetic is modulo 2^(element bits), so signed and unsigned dtypes share the layout and
/// every value, including the minimum and maximum of the type, comes back exactly.
/// </remarks>
internal readonly struct IntPackPlan
{
    internal IntPackPlan(IntPackMode mode, int bits, int elementSize, int elementCount, ulong reference, ulong minDelta)
    {
        Mode = mode;
        Bits = bits;
        ElementSize = elementSize;
        ElementCount = elementCount;
        Reference = reference;
        MinDelta = mode == IntPackMode.Delta ? minDelta : 0;
    }

    /// <summary>Frame of reference or delta.</summary>
    public IntPackMode Mode { get; }

    /// <summary>Bits per packed value.</summary>
    public int Bits { get; }

    /// <summary>Bytes per element: 1, 2, 4 or 8.</summary>
    public int ElementSize { get; }

    /// <summary>Elements in the raw data.</summary>
    public int ElementCount { get; }

    /// <summary>The minimum (frame of reference) or the first element (delta), as raw element bits.</summary>
    public ulong Reference { get; }

    /// <summary>The smallest delta, as raw element bits (delta only).</summary>
    public ulong MinDelta { get; }

    /// <summary>Values in the packed stream.</summary>
    public int PackedCount => Mode == IntPackMode.Delta ? Math.Max(0, ElementCount - 1) : ElementCount;

    /// <summary>Bytes of the packed stream.</summary>
    public int PackedLength => (int)BitPacking.GetPackedLength(PackedCount, Bits);

    /// <summary>Bytes of the parameter block.</summary>
    public int ParametersLength => 2 + (Mode == IntPackMode.Delta ? 2 * ElementSize : ElementSize);

    /// <summary>The exact size of <see cref="IntPack.Encode"/>'s output.</summary>
    public int EstimatedSize => ParametersLength + PackedLength;

    /// <summary>Appends the parameter block.</summary>
    public void Write(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Span<byte> span = output.GetSpan(ParametersLength);
        span[0] = (byte)Mode;
        span[1] = (byte)Bits;
        Elements.Write(span[2..], ElementSize, Reference);
        if (Mode == IntPackMode.Delta)
        {
            Elements.Write(span[(2 + ElementSize)..], ElementSize, MinDelta);
        }

        output.Advance(ParametersLength);
    }

    /// <summary>Reads and validates a parameter block for <paramref name="rawLength"/> bytes of <paramref name="dtype"/>.</summary>
    /// <exception cref="Z4AiFormatException">The block is truncated or inconsistent with the dtype and length.</exception>
    public static IntPackPlan Read(ref SpanReader reader, DType dtype, int rawLength)
    {
        int start = reader.Position;
        int size = IntPack.IsApplicable(dtype) ? dtype.ElementSize() : 0;
        if (size == 0 || rawLength % size != 0)
        {
            ThrowHelper.CorruptFrame($"integer-pack frame cannot hold {rawLength} bytes of {dtype.GetName()}", start);
        }

        var mode = (IntPackMode)reader.ReadByte();
        int bits = reader.ReadByte();
        // A delta frame starts from a first element, so it needs at least two (the encoder never writes fewer).
        if (mode is not (IntPackMode.FrameOfReference or IntPackMode.Delta) || bits > size * 8
            || (mode == IntPackMode.Delta && rawLength < 2 * size))
        {
            ThrowHelper.CorruptFrame($"integer-pack mode {(byte)mode} with {bits} bits does not apply to {dtype.GetName()}", start);
        }

        ulong reference = Elements.Read(reader.ReadBytes(size), size);
        ulong minDelta = mode == IntPackMode.Delta ? Elements.Read(reader.ReadBytes(size), size) : 0;
        return new IntPackPlan(mode, bits, size, rawLength / size, reference, minDelta);
    }
}
