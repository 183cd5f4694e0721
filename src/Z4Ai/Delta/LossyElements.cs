using System.Buffers.Binary;

namespace Z4Ai.Delta;

/// <summary>
/// Widening of F32, F16 and BF16 elements to <see cref="float"/> and rounding back, with IEEE round-to-nearest-even
/// only, so a reconstruction computed here is the same on every machine.
/// </summary>
internal static class LossyElements
{
    /// <summary>True for the dtypes the lossy tiers quantize; every other dtype is stored losslessly.</summary>
    public static bool IsSupported(DType dtype) => dtype is DType.F32 or DType.F16 or DType.BF16;

    /// <summary>Widens every element of <paramref name="source"/> (exact for all three dtypes).</summary>
    public static void ToFloat(ReadOnlySpan<byte> source, DType dtype, Span<float> destination)
    {
        switch (dtype)
        {
            case DType.F32:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(i * 4)..]);
                }

                break;
            case DType.F16:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(source[(i * 2)..]);
                }

                break;
            case DType.BF16:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source[(i * 2)..]) << 16);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "only F32, F16 and BF16 widen to float");
        }
    }

    /// <summary>Widens element <paramref name="index"/>.</summary>
    public static float Read(ReadOnlySpan<byte> data, DType dtype, int index) => dtype switch
    {
        DType.F32 => BinaryPrimitives.ReadSingleLittleEndian(data[(index * 4)..]),
        DType.F16 => (float)BinaryPrimitives.ReadHalfLittleEndian(data[(index * 2)..]),
        _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(data[(index * 2)..]) << 16),
    };

    /// <summary>Rounds <paramref name="value"/> to the dtype (nearest, ties to even) and stores element <paramref name="index"/>.</summary>
    public static void Write(Span<byte> data, DType dtype, int index, float value)
    {
        switch (dtype)
        {
            case DType.F32:
                BinaryPrimitives.WriteSingleLittleEndian(data[(index * 4)..], value);
                break;
            case DType.F16:
                BinaryPrimitives.WriteHalfLittleEndian(data[(index * 2)..], (Half)value);
                break;
            default:
                BinaryPrimitives.WriteUInt16LittleEndian(data[(index * 2)..], ToBFloat16(value));
                break;
        }
    }

    /// <summary>Rounds a float to bfloat16 bits, nearest with ties to even; NaN stays a quiet NaN.</summary>
    public static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x0040);
        }

        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
