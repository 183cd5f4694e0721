using System.Buffers.Binary;

namespace Z4Ai.Benchmarks.Corpus;

/// <summary>
/// The information bound of a quantised case: what its stored tensor holds beyond the safetensors header is the
/// integer codes and the scales, so no lossless coder that treats the codes as independent draws (which is what the
/// generator makes them, given their row) gets the file below header + order-0 entropy of the codes + the scales'
/// raw bits. The codes come from the generator, and <see cref="Of"/> checks against the stored bytes that they are
/// exactly recoverable from them (one stored value per code within each scale), so the bound describes this data.
/// </summary>
/// <param name="CodeBits">Order-0 entropy of the codes over the whole tensor, in bits.</param>
/// <param name="RowCodeBits">Sum over the rows (groups sharing a scale) of each row's own order-0 entropy, in bits:
/// what a coder with a free table per row would reach; the tables are not free, so this is only a guide.</param>
/// <param name="ScaleBits">The scales at their raw size: 32 bits per FP32 scale.</param>
/// <param name="Codes">How many codes.</param>
internal readonly record struct CodeBound(double CodeBits, double RowCodeBits, long ScaleBits, long Codes)
{
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
        var values = new HashSet<uint>();
        double rowBits = 0;
        for (int start = 0; start < codes.Codes.Length; start += groupLength)
        {
            Array.Clear(group);
            values.Clear();
            for (int i = start; i < start + groupLength; i++)
            {
                byte code = (byte)codes.Codes[i];
                uint value = elementSize == 2
                    ? BinaryPrimitives.ReadUInt16LittleEndian(stored[(2 * i)..])
                    : BinaryPrimitives.ReadUInt32LittleEndian(stored[(4 * i)..]);

                // A code seen before must come back as the same value; a new code must bring a value not seen before.
                if (group[code] == 0 ? !values.Add(value) : valueOf[code] != value)
                {
                    throw new InvalidOperationException(
                        $"element {i}: code {(sbyte)code} is stored as 0x{value:X}, which does not map one to one onto the codes of its scale");
                }

                valueOf[code] = value;
                group[code]++;
                tensor[code]++;
            }

            rowBits += OrderZeroBounds.Bits(group);
        }

        return new CodeBound(OrderZeroBounds.Bits(tensor), rowBits, 32L * codes.Scales.Length, codes.Codes.Length);
    }
}
