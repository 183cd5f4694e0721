using System.Buffers.Binary;

namespace Z4Ai.Benchmarks.Corpus;

/// <summary>
/// The information bounds of a quantised case: beyond the safetensors header its tensor holds only integer codes and
/// scales. <see cref="Ratio"/> is the code bound (order-0 entropy of the codes over the whole tensor plus the
/// scales' raw bits): no coder that codes the codes with one set of frequencies gets the file smaller. The codes of a
/// row are independent draws, but rows differ (in their scale, or with one scale per tensor in their spread), so a
/// coder that adapts row by row can pass it; <see cref="RowCeiling"/> (each row's own order-0 entropy, scales and
/// tables free) is the ceiling no lossless coder can expect to pass on this data. The codes come from the generator,
/// and <see cref="Of"/> checks against the stored bytes that they are exactly recoverable from them (one stored
/// value per code within each scale), so both describe the data itself.
/// </summary>
/// <param name="CodeBits">Order-0 entropy of the codes over the whole tensor, in bits.</param>
/// <param name="RowCodeBits">Sum over the rows of the matrix of each row's own order-0 entropy, in bits: the codes of a
/// row are independent draws, so no lossless coder can expect to code them in less, even with each row's exact
/// frequencies known for free (the ceiling a floor must stay under to be reachable at all).</param>
/// <param name="ScaleBits">The scales at their raw size: 32 bits per FP32 scale.</param>
/// <param name="Codes">How many codes.</param>
internal readonly record struct CodeBound(double CodeBits, double RowCodeBits, long ScaleBits, long Codes)
{
    /// <summary>The ceiling: file bytes over (header + the rows' own order-0 entropies), scales and tables free.</summary>
    public double RowCeiling(long fileBytes, long headerBytes) => fileBytes / (headerBytes + (RowCodeBits / 8));

    /// <summary>Mean order-0 bits per code.</summary>
    public double BitsPerCode => Codes == 0 ? 0 : CodeBits / Codes;

    /// <summary>The largest ratio a file of <paramref name="fileBytes"/> with <paramref name="headerBytes"/> of header
    /// can reach: file bytes over (header + code entropy + scales).</summary>
    public double Ratio(long fileBytes, long headerBytes) => fileBytes / (headerBytes + ((CodeBits + ScaleBits) / 8));

    /// <summary>
    /// The bound of <paramref name="codes"/>, after checking that <paramref name="stored"/> (the tensor's bytes, BF16 or
    /// FP32 little-endian) holds, within each row sharing a scale, one distinct value per distinct code.
    /// </summary>
    /// <exception cref="InvalidOperationException">The stored values do not determine the codes (or the reverse).</exception>
    public static CodeBound Of(QuantisedCodes codes, DType dtype, ReadOnlySpan<byte> stored)
    {
        int elementSize = dtype == DType.BF16 ? 2 : dtype == DType.F32 ? 4
            : throw new ArgumentException($"quantised cases are BF16 or FP32, not {dtype.GetName()}", nameof(dtype));
        if (stored.Length != codes.Codes.Length * elementSize)
        {
            throw new InvalidOperationException($"the tensor holds {stored.Length} bytes, expected {codes.Codes.Length} codes of {elementSize} bytes");
        }

        int groupLength = codes.Scales.Length == 1 ? codes.Codes.Length : codes.Columns;
        long[] tensor = new long[256];
        long[] group = new long[256];
        uint[] valueOf = new uint[256];
        bool[] seen = new bool[256];
        var values = new HashSet<uint>();
        double rowBits = 0;
        for (int start = 0; start < codes.Codes.Length; start += codes.Columns)
        {
            Array.Clear(group);
            if (start % groupLength == 0)
            {
                values.Clear();
                Array.Clear(seen);
            }

            for (int i = start; i < start + codes.Columns; i++)
            {
                byte code = (byte)codes.Codes[i];
                uint value = elementSize == 2
                    ? BinaryPrimitives.ReadUInt16LittleEndian(stored[(2 * i)..])
                    : BinaryPrimitives.ReadUInt32LittleEndian(stored[(4 * i)..]);

                // A code seen before must come back as the same value; a new code must bring a value not seen before.
                if (!seen[code] ? !values.Add(value) : valueOf[code] != value)
                {
                    throw new InvalidOperationException(
                        $"element {i}: code {(sbyte)code} is stored as 0x{value:X}, which does not map one to one onto the codes of its scale");
                }

                valueOf[code] = value;
                seen[code] = true;
                group[code]++;
                tensor[code]++;
            }

            rowBits += OrderZeroBounds.Bits(group);
        }

        return new CodeBound(OrderZeroBounds.Bits(tensor), rowBits, 32L * codes.Scales.Length, codes.Codes.Length);
    }
}
