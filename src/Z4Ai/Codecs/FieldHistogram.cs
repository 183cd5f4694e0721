using System.Buffers.Binary;

namespace Z4Ai.Codecs;

/// <summary>
/// Counts the sign, exponent and mantissa fields of BF16, F16 and F32 elements over any number of chunks, for the
/// order-0 entropies reported by <c>Inspect</c> (reporting only: floating-point math is fine here).
/// </summary>
internal sealed class FieldHistogram
{
    private readonly DType _dtype;
    private readonly long[] _sign = new long[2];
    private readonly long[] _exponent = new long[256];
    private readonly long[][] _mantissa;
    private long _count;

    public FieldHistogram(DType dtype)
    {
        _dtype = dtype;
        _mantissa = dtype switch
        {
            DType.BF16 => [new long[128]],
            DType.F16 => [new long[1024]],
            _ => [new long[256], new long[256], new long[128]],
        };
    }

    /// <summary>True for the dtypes whose fields are counted.</summary>
    public static bool IsSupported(DType dtype) => dtype is DType.BF16 or DType.F16 or DType.F32;

    /// <summary>Counts the whole elements of <paramref name="raw"/>.</summary>
    public void Add(ReadOnlySpan<byte> raw)
    {
        switch (_dtype)
        {
            case DType.BF16:
                for (int i = 0; i + 2 <= raw.Length; i += 2)
                {
                    uint v = BinaryPrimitives.ReadUInt16LittleEndian(raw[i..]);
                    _sign[v >> 15]++;
                    _exponent[(v >> 7) & 0xFF]++;
                    _mantissa[0][v & 0x7F]++;
                }

                _count += raw.Length / 2;
                break;
            case DType.F16:
                for (int i = 0; i + 2 <= raw.Length; i += 2)
                {
                    uint v = BinaryPrimitives.ReadUInt16LittleEndian(raw[i..]);
                    _sign[v >> 15]++;
                    _exponent[(v >> 10) & 0x1F]++;
                    _mantissa[0][v & 0x3FF]++;
                }

                _count += raw.Length / 2;
                break;
            default:
                for (int i = 0; i + 4 <= raw.Length; i += 4)
                {
                    uint v = BinaryPrimitives.ReadUInt32LittleEndian(raw[i..]);
                    _sign[v >> 31]++;
                    _exponent[(v >> 23) & 0xFF]++;
                    _mantissa[0][v & 0xFF]++;
                    _mantissa[1][(v >> 8) & 0xFF]++;
                    _mantissa[2][(v >> 16) & 0x7F]++;
                }

                _count += raw.Length / 4;
                break;
        }
    }

    /// <summary>Bits per element of the sign field.</summary>
    public double SignBits => Entropy(_sign);

    /// <summary>Bits per element of the exponent field.</summary>
    public double ExponentBits => Entropy(_exponent);

    /// <summary>Bits per element of the mantissa field (summed over its parts for F32).</summary>
    public double MantissaBits => _mantissa.Sum(Entropy);

    private double Entropy(long[] counts)
    {
        if (_count == 0)
        {
            return 0;
        }

        double bits = 0;
        foreach (long c in counts)
        {
            if (c != 0)
            {
                double p = (double)c / _count;
                bits -= p * Math.Log2(p);
            }
        }

        return bits;
    }
}
