using System.Buffers;
using Z4Ai.Internal;

namespace Z4Ai.Transforms;

/// <summary>How <see cref="DeadBits"/> narrows each lane. The values are part of the file format.</summary>
internal enum DeadBitsMode : byte
{
    /// <summary>Every lane has its low <see cref="DeadBitsPlan.Shift"/> bits zero; the rest is kept.</summary>
    Shift = 0,

    /// <summary>Every F32 lane (F32 or C64 dtype) is an exactly representable F16 value.</summary>
    F32AsF16 = 1,

    /// <summary>Every F64 element is an exactly representable F32 value.</summary>
    F64AsF32 = 2,
}

/// <summary>
/// The parameters of a <see cref="DeadBits"/> frame: what the codec stores so the narrow stream can be widened back.
/// </summary>
/// <remarks>
/// Parameter block: <c>u8 mode</c> (<see cref="DeadBitsMode"/>), then for <see cref="DeadBitsMode.Shift"/> only
/// <c>u8 shift</c> (1..lane bits). The narrow stream that follows holds one value per lane, packed with
/// <see cref="BitPacking"/> at <see cref="NarrowBits"/> bits: <c>lane &gt;&gt; shift</c> for Shift, the F16 bit
/// pattern for F32AsF16, the F32 bit pattern for F64AsF32. When <see cref="NarrowBits"/> is a multiple of 8 that
/// is simply the little-endian narrow elements one after another.
/// </remarks>
internal readonly struct DeadBitsPlan
{
    internal DeadBitsPlan(DType dtype, DeadBitsMode mode, int shift, int laneCount)
    {
        SourceDType = dtype;
        Mode = mode;
        Shift = mode == DeadBitsMode.Shift ? shift : 0;
        LaneBytes = DeadBits.LaneBytesOf(dtype);
        LaneCount = laneCount;
    }

    /// <summary>The dtype of the raw elements.</summary>
    public DType SourceDType { get; }

    /// <summary>How the lanes are narrowed.</summary>
    public DeadBitsMode Mode { get; }

    /// <summary>Bits dropped from the bottom of every lane (<see cref="DeadBitsMode.Shift"/> only; 0 otherwise).</summary>
    public int Shift { get; }

    /// <summary>Bytes per lane: the element size, except that a C64 element is two F32 lanes.</summary>
    public int LaneBytes { get; }

    /// <summary>The number of lanes.</summary>
    public int LaneCount { get; }

    /// <summary>Bits per lane in the narrow stream (0 when every lane is zero).</summary>
    public int NarrowBits => Mode switch
    {
        DeadBitsMode.F32AsF16 => 16,
        DeadBitsMode.F64AsF32 => 32,
        _ => (LaneBytes * 8) - Shift,
    };

    /// <summary>Bytes of the narrow stream.</summary>
    public int NarrowLength => (int)BitPacking.GetPackedLength(LaneCount, NarrowBits);

    /// <summary>Bytes per narrow element when the stream is byte-aligned, or 0 when it is bit-packed.</summary>
    public int NarrowElementSize => NarrowBits % 8 == 0 ? NarrowBits / 8 : 0;

    /// <summary>
    /// The dtype the narrow stream can be compressed as (BF16 for F32 with 16 dead bits, F8_E5M2 for F16 with 8,
    /// F16/F32 for the float conversions, the narrower integer for integers), or null when no dtype matches.
    /// </summary>
    public DType? NarrowDType => Mode switch
    {
        DeadBitsMode.F32AsF16 => DType.F16,
        DeadBitsMode.F64AsF32 => DType.F32,
        _ => (SourceDType, NarrowBits) switch
        {
            (DType.F32 or DType.C64, 16) => DType.BF16,
            (DType.F16, 8) => DType.F8_E5M2,
            (DType.I16 or DType.I32 or DType.I64, 8) => DType.I8,
            (DType.I32 or DType.I64, 16) => DType.I16,
            (DType.I64, 32) => DType.I32,
            (DType.U16 or DType.U32 or DType.U64, 8) => DType.U8,
            (DType.U32 or DType.U64, 16) => DType.U16,
            (DType.U64, 32) => DType.U32,
            _ => null,
        },
    };

    /// <summary>Bytes of the parameter block.</summary>
    public int ParametersLength => Mode == DeadBitsMode.Shift ? 2 : 1;

    /// <summary>The exact size of <see cref="DeadBits.Encode"/>'s output: parameters plus narrow stream.</summary>
    public int EstimatedSize => ParametersLength + NarrowLength;

    /// <summary>Appends the parameter block.</summary>
    public void Write(IBufferWriter<byte> output)
    {
        Span<byte> span = output.GetSpan(2);
        span[0] = (byte)Mode;
        if (Mode == DeadBitsMode.Shift)
        {
            span[1] = (byte)Shift;
        }

        output.Advance(ParametersLength);
    }

    /// <summary>Reads and validates a parameter block for <paramref name="rawLength"/> bytes of <paramref name="dtype"/>.</summary>
    /// <exception cref="Z4AiFormatException">The block is truncated or does not fit the dtype and length.</exception>
    public static DeadBitsPlan Read(ref SpanReader reader, DType dtype, int rawLength)
    {
        int start = reader.Position;
        int lane = DeadBits.LaneBytesOf(dtype);
        if (lane == 0 || rawLength % dtype.ElementSize() != 0)
        {
            ThrowHelper.CorruptFrame($"dead-bits frame cannot hold {rawLength} bytes of {dtype.GetName()}", start);
        }

        var mode = (DeadBitsMode)reader.ReadByte();
        int shift = 0;
        switch (mode)
        {
            case DeadBitsMode.Shift:
                shift = reader.ReadByte();
                if (shift < 1 || shift > lane * 8)
                {
                    ThrowHelper.CorruptFrame($"dead-bits shift {shift} is outside 1..{lane * 8}", start + 1);
                }

                break;
            case DeadBitsMode.F32AsF16 when dtype is DType.F32 or DType.C64:
            case DeadBitsMode.F64AsF32 when dtype is DType.F64:
                break;
            default:
                ThrowHelper.CorruptFrame($"dead-bits mode {(byte)mode} does not apply to {dtype.GetName()}", start);
                break;
        }

        return new DeadBitsPlan(dtype, mode, shift, rawLength / lane);
    }
}
