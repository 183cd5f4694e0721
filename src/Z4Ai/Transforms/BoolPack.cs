using System.Buffers;
using System.Buffers.Binary;
using Z4Ai.Internal;

namespace Z4Ai.Transforms;

/// <summary>The parameters of a <see cref="BoolPack"/> frame.</summary>
/// <remarks>
/// The parameter block is empty: the element count follows from the raw length. The stream is one bit per element,
/// LSB-first (<see cref="BitPacking"/> with k = 1), <c>ceil(n/8)</c> bytes with zero padding.
/// </remarks>
internal readonly struct BoolPackPlan
{
    internal BoolPackPlan(int elementCount) => ElementCount = elementCount;

    /// <summary>Elements (bytes) in the raw data.</summary>
    public int ElementCount { get; }

    /// <summary>Bytes of the packed stream.</summary>
    public int PackedLength => (int)BitPacking.GetPackedLength(ElementCount, 1);

    /// <summary>Bytes of the parameter block (none).</summary>
    public static int ParametersLength => 0;

    /// <summary>The exact size of <see cref="BoolPack.Encode"/>'s output.</summary>
    public int EstimatedSize => PackedLength;

    /// <summary>Appends the (empty) parameter block.</summary>
    public static void Write(IBufferWriter<byte> output) => ArgumentNullException.ThrowIfNull(output);

    /// <summary>Validates that a bool-pack frame can describe <paramref name="rawLength"/> bytes of <paramref name="dtype"/>.</summary>
    /// <exception cref="Z4AiFormatException">The dtype is not one byte per element.</exception>
    public static BoolPackPlan Read(ref SpanReader reader, DType dtype, int rawLength)
    {
        if (!BoolPack.IsApplicable(dtype))
        {
            ThrowHelper.CorruptFrame($"bool-pack frame cannot hold {dtype.GetName()}", reader.Position);
        }

        return new BoolPackPlan(rawLength);
    }
}

/// <summary>
/// BOOL, U8 or I8 tensors whose bytes are all 0 or 1 (masks, flags), stored as one bit per element.
/// </summary>
internal static class BoolPack
{
    // Spread table: byte b -> eight bytes, byte j = bit j of b.
    private static readonly ulong[] Spread = BuildSpread();

    /// <summary>True for the one-byte dtypes whose 0/1 bytes this transform packs.</summary>
    public static bool IsApplicable(DType dtype) => dtype is DType.BOOL or DType.U8 or DType.I8;

    /// <summary>True when every byte is 0 or 1 and packing is smaller than the input.</summary>
    public static bool TryPlan(ReadOnlySpan<byte> raw, DType dtype, out BoolPackPlan plan)
    {
        plan = default;
        if (!IsApplicable(dtype) || raw.Length < 2 || (BitwiseScan.FoldToLane(BitwiseScan.OrWords(raw), 1) & 0xFE) != 0)
        {
            return false;
        }

        plan = new BoolPackPlan(raw.Length);
        return true;
    }

    /// <summary>Writes the packed bits.</summary>
    /// <exception cref="ArgumentException">A buffer has the wrong size or a byte is neither 0 nor 1.</exception>
    public static void Forward(ReadOnlySpan<byte> raw, in BoolPackPlan plan, Span<byte> packed)
    {
        CheckRaw(raw.Length, plan);
        ArgumentOutOfRangeException.ThrowIfLessThan(packed.Length, plan.PackedLength, nameof(packed));
        ulong excess = 0;
        int i = 0;
        for (; i + 8 <= raw.Length; i += 8)
        {
            ulong w = BinaryPrimitives.ReadUInt64LittleEndian(raw[i..]);
            excess |= w;

            // With every byte 0 or 1, the multiply moves byte j's bit to bit 56 + j without carries (each partial
            // product lands on a distinct bit), so the top byte is the eight flags in order.
            packed[i >> 3] = (byte)((w * 0x0102040810204080UL) >> 56);
        }

        if (i < raw.Length)
        {
            byte last = 0;
            for (int b = 0; i + b < raw.Length; b++)
            {
                excess |= raw[i + b];
                last |= (byte)(raw[i + b] << b);
            }

            packed[i >> 3] = last;
        }

        if ((excess & 0xFEFEFEFEFEFEFEFEUL) != 0)
        {
            throw new ArgumentException("a byte is neither 0 nor 1; plan again", nameof(raw));
        }
    }

    /// <summary>Rebuilds the bytes from the packed bits.</summary>
    /// <exception cref="Z4AiFormatException">The stream has the wrong length or non-zero padding.</exception>
    public static void Inverse(ReadOnlySpan<byte> packed, in BoolPackPlan plan, Span<byte> raw)
    {
        CheckRaw(raw.Length, plan);
        if (packed.Length != plan.PackedLength || !BitPacking.HasZeroPadding(packed, plan.ElementCount, 1))
        {
            ThrowHelper.CorruptFrame($"bool-pack stream has {packed.Length} bytes, expected {plan.PackedLength} with zero padding");
        }

        int i = 0;
        for (; i + 8 <= raw.Length; i += 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(raw[i..], Spread[packed[i >> 3]]);
        }

        for (; i < raw.Length; i++)
        {
            raw[i] = (byte)((packed[i >> 3] >> (i & 7)) & 1);
        }
    }

    /// <summary>Appends the packed stream; returns the bytes written (= EstimatedSize).</summary>
    public static int Encode(ReadOnlySpan<byte> raw, in BoolPackPlan plan, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        CheckRaw(raw.Length, plan);
        BoolPackPlan.Write(output);
        int length = plan.PackedLength;
        Forward(raw, plan, output.GetSpan(length));
        output.Advance(length);
        return plan.EstimatedSize;
    }

    /// <summary>Decodes a frame written by <see cref="Encode"/> into exactly <paramref name="destination"/>.</summary>
    /// <exception cref="Z4AiFormatException">The frame has the wrong length or is inconsistent.</exception>
    public static void Decode(ReadOnlySpan<byte> encoded, DType dtype, Span<byte> destination)
    {
        var reader = new SpanReader(encoded);
        BoolPackPlan plan = BoolPackPlan.Read(ref reader, dtype, destination.Length);
        ReadOnlySpan<byte> packed = reader.ReadBytes(plan.PackedLength);
        if (reader.Remaining != 0)
        {
            ThrowHelper.CorruptFrame($"bool-pack frame has {reader.Remaining} trailing bytes", reader.Position);
        }

        Inverse(packed, plan, destination);
    }

    private static void CheckRaw(int rawLength, in BoolPackPlan plan)
    {
        if (rawLength != plan.ElementCount)
        {
            throw new ArgumentException($"the plan covers {plan.ElementCount} bytes, not {rawLength}");
        }
    }

    private static ulong[] BuildSpread()
    {
        var table = new ulong[256];
        for (int b = 0; b < 256; b++)
        {
            ulong v = 0;
            for (int j = 0; j < 8; j++)
            {
                v |= (ulong)((b >> j) & 1) << (8 * j);
            }

            table[b] = v;
        }

        return table;
    }
}
