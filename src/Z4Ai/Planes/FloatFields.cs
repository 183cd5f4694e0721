using System.Buffers.Binary;
using System.Runtime.Intrinsics;

namespace Z4Ai.Planes;

/// <summary>
/// Splits little-endian BF16, F16 and F32 element streams into an <em>exponent stream</em> (one byte per element:
/// the biased IEEE exponent) and <em>sign+mantissa planes</em> (one byte per element each), and merges them back.
/// The exponent stream is where weights are predictable (a narrow, peaked distribution a context model codes in
/// two to three bits); the mantissa planes are close to noise and go to zstd or are stored.
/// </summary>
/// <remarks>
/// <para>Bit layout per element (bit 0 is the least significant; <c>s</c> sign, <c>e</c> exponent, <c>m</c> mantissa):</para>
/// <list type="table">
/// <listheader><term>dtype</term><description>exponent byte; then the planes, in order</description></listheader>
/// <item><term>BF16 (s:1 e:8 m:7)</term><description>
/// exponent = bits 7-14 (all 8 bits); plane 0 = <c>m[0..6] &lt;&lt; 1 | s</c>. Equivalently: rotate the 16-bit word
/// left by one, then the low byte is plane 0 and the high byte is the exponent.</description></item>
/// <item><term>F16 (s:1 e:5 m:10)</term><description>
/// exponent = bits 10-14 (values 0-31); plane 0 = <c>m[0..7]</c>; plane 1 = <c>s &lt;&lt; 2 | m[8..9]</c>
/// (values 0-7).</description></item>
/// <item><term>F32 (s:1 e:8 m:23)</term><description>
/// exponent = bits 23-30 (all 8 bits); plane 0 = <c>m[0..7]</c>; plane 1 = <c>m[8..15]</c>;
/// plane 2 = <c>m[16..22] &lt;&lt; 1 | s</c>. Equivalently: the low 16 bits are byte-split unchanged and the high
/// 16 bits get the BF16 treatment.</description></item>
/// </list>
/// <para>
/// For <c>count</c> elements the exponent stream is <c>exponents[0..count)</c> and plane k is
/// <c>signMantissa[k * count .. (k + 1) * count)</c>. Longer spans are allowed; only those prefixes are touched.
/// Merge ignores the bits an F16 field cannot hold (exponent bits 5-7, plane 1 bits 3-7), so every input merges
/// to some element stream; the codec's SHA-256 check catches a corrupted stream, not this kernel. NaN payloads,
/// signed zeros, infinities and subnormals are plain bit patterns here and round-trip exactly.
/// </para>
/// <para>
/// <see cref="SplitScalar"/> and <see cref="MergeScalar"/> define the layout; the Vector128/256/512 methods
/// consume whole blocks of <c>Vector&lt;byte&gt;.Count</c> elements and are tested bit-for-bit against them.
/// </para>
/// </remarks>
internal static partial class FloatFields
{
    /// <summary>True for the dtypes this transform handles: BF16, F16 and F32.</summary>
    public static bool IsSupported(DType dtype) => dtype is DType.BF16 or DType.F16 or DType.F32;

    /// <summary>The number of sign+mantissa planes: 1 for BF16, 2 for F16, 3 for F32.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The dtype is not supported.</exception>
    public static int GetPlaneCount(DType dtype) => dtype switch
    {
        DType.BF16 => 1,
        DType.F16 => 2,
        DType.F32 => 3,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Only BF16, F16 and F32 have float fields."),
    };

    /// <summary>
    /// Splits the elements in <paramref name="source"/> into the exponent stream and the sign+mantissa planes
    /// (layout in the type's remarks).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The dtype is not supported.</exception>
    /// <exception cref="ArgumentException">
    /// The source length is not a multiple of the element size, an output is too short, or spans overlap.
    /// </exception>
    public static void Split(DType dtype, ReadOnlySpan<byte> source, Span<byte> exponents, Span<byte> signMantissa)
    {
        int count = CheckArguments(dtype, source, exponents, signMantissa, nameof(source));
        int done = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            done = SplitVector512(dtype, source, exponents, signMantissa);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            done = SplitVector256(dtype, source, exponents, signMantissa);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            done = SplitVector128(dtype, source, exponents, signMantissa);
        }

        SplitScalarFrom(dtype, source, exponents, signMantissa, count, done);
    }

    /// <summary>
    /// Inverse of <see cref="Split"/>: rebuilds <c>destination.Length / elementSize</c> elements from the exponent
    /// stream and the planes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The dtype is not supported.</exception>
    /// <exception cref="ArgumentException">
    /// The destination length is not a multiple of the element size, an input is too short, or spans overlap.
    /// </exception>
    public static void Merge(DType dtype, ReadOnlySpan<byte> exponents, ReadOnlySpan<byte> signMantissa, Span<byte> destination)
    {
        int count = CheckArguments(dtype, destination, exponents, signMantissa, nameof(destination));
        int done = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            done = MergeVector512(dtype, exponents, signMantissa, destination);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            done = MergeVector256(dtype, exponents, signMantissa, destination);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            done = MergeVector128(dtype, exponents, signMantissa, destination);
        }

        MergeScalarFrom(dtype, exponents, signMantissa, destination, count, done);
    }

    /// <summary>The scalar oracle for <see cref="Split"/>; it defines the layout.</summary>
    internal static void SplitScalar(DType dtype, ReadOnlySpan<byte> source, Span<byte> exponents, Span<byte> signMantissa)
    {
        int count = CheckArguments(dtype, source, exponents, signMantissa, nameof(source));
        SplitScalarFrom(dtype, source, exponents, signMantissa, count, 0);
    }

    /// <summary>The scalar oracle for <see cref="Merge"/>.</summary>
    internal static void MergeScalar(DType dtype, ReadOnlySpan<byte> exponents, ReadOnlySpan<byte> signMantissa, Span<byte> destination)
    {
        int count = CheckArguments(dtype, destination, exponents, signMantissa, nameof(destination));
        MergeScalarFrom(dtype, exponents, signMantissa, destination, count, 0);
    }

    /// <summary>Splits elements <c>[start, count)</c>; arguments already checked.</summary>
    internal static void SplitScalarFrom(DType dtype, ReadOnlySpan<byte> source, Span<byte> exponents, Span<byte> signMantissa, int count, int start)
    {
        switch (dtype)
        {
            case DType.BF16:
                for (int i = start; i < count; i++)
                {
                    uint v = BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]);
                    exponents[i] = (byte)(v >> 7);
                    signMantissa[i] = (byte)((v << 1) | (v >> 15));
                }

                break;
            case DType.F16:
                for (int i = start; i < count; i++)
                {
                    uint v = BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]);
                    exponents[i] = (byte)((v >> 10) & 0x1F);
                    signMantissa[i] = (byte)v;
                    signMantissa[count + i] = (byte)(((v >> 13) & 0x4) | ((v >> 8) & 0x3));
                }

                break;
            case DType.F32:
                for (int i = start; i < count; i++)
                {
                    uint v = BinaryPrimitives.ReadUInt32LittleEndian(source[(4 * i)..]);
                    exponents[i] = (byte)(v >> 23);
                    signMantissa[i] = (byte)v;
                    signMantissa[count + i] = (byte)(v >> 8);
                    signMantissa[(2 * count) + i] = (byte)(((v >> 15) & 0xFE) | (v >> 31));
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Only BF16, F16 and F32 have float fields.");
        }
    }

    /// <summary>Merges elements <c>[start, count)</c>; arguments already checked.</summary>
    internal static void MergeScalarFrom(DType dtype, ReadOnlySpan<byte> exponents, ReadOnlySpan<byte> signMantissa, Span<byte> destination, int count, int start)
    {
        switch (dtype)
        {
            case DType.BF16:
                for (int i = start; i < count; i++)
                {
                    uint p = signMantissa[i];
                    uint v = ((uint)exponents[i] << 7) | (p >> 1) | ((p & 1) << 15);
                    BinaryPrimitives.WriteUInt16LittleEndian(destination[(2 * i)..], (ushort)v);
                }

                break;
            case DType.F16:
                for (int i = start; i < count; i++)
                {
                    uint high = signMantissa[count + i];
                    uint v = ((exponents[i] & 0x1Fu) << 10) | signMantissa[i] | ((high & 0x3) << 8) | ((high & 0x4) << 13);
                    BinaryPrimitives.WriteUInt16LittleEndian(destination[(2 * i)..], (ushort)v);
                }

                break;
            case DType.F32:
                for (int i = start; i < count; i++)
                {
                    uint top = signMantissa[(2 * count) + i];
                    uint v = ((uint)exponents[i] << 23) | ((top >> 1) << 16) | ((top & 1) << 31)
                        | ((uint)signMantissa[count + i] << 8) | signMantissa[i];
                    BinaryPrimitives.WriteUInt32LittleEndian(destination[(4 * i)..], v);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Only BF16, F16 and F32 have float fields.");
        }
    }

    // Validates once per call, before any raw-ref loop runs; returns the element count.
    private static int CheckArguments(DType dtype, ReadOnlySpan<byte> elements, ReadOnlySpan<byte> exponents, ReadOnlySpan<byte> signMantissa, string elementsName)
    {
        int planes = GetPlaneCount(dtype);
        int elementSize = dtype == DType.F32 ? 4 : 2;
        if (elements.Length % elementSize != 0)
        {
            throw new ArgumentException(
                $"The element stream has {elements.Length} bytes, not a multiple of the {dtype.GetName()} element size {elementSize}.",
                elementsName);
        }

        int count = elements.Length / elementSize;
        if (exponents.Length < count)
        {
            throw new ArgumentException($"The exponent stream has {exponents.Length} bytes; {count} are needed.", nameof(exponents));
        }

        if (signMantissa.Length < planes * count)
        {
            throw new ArgumentException(
                $"The sign+mantissa planes have {signMantissa.Length} bytes; {planes * count} are needed.", nameof(signMantissa));
        }

        ReadOnlySpan<byte> e = exponents[..count];
        ReadOnlySpan<byte> p = signMantissa[..(planes * count)];
        if (elements.Overlaps(e) || elements.Overlaps(p) || e.Overlaps(p))
        {
            throw new ArgumentException("The element stream, the exponent stream and the planes must not overlap.", elementsName);
        }

        return count;
    }
}
