using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Tests.Codecs;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// The top of <see cref="RecipeEncoder"/> (<c>RecipeEncoder.cs</c>: the best-of selector, its thresholds and the
/// leaf coder's choices) at the exact boundaries no other table reaches: the F16 planes-or-fields decision when both
/// order-0 bounds are equal, the zero-mask trial at exactly 1/16 zeros, the palette sample at exactly 256 distinct
/// values and the first group at exactly 32, the sign of a zero only for float dtypes (an I32 holding
/// <c>int.MinValue</c> is not a -0.0), the affine sample of a float tensor without rows, a best candidate of exactly
/// the stored size plus one byte (kept) or the input size, the whole-stream zstd probe on a stream of exactly 1 MiB, the
/// row length kept for context mixing only when shorter than the stream, context mixing at <c>Default</c> only on
/// 4 Ki to 64 Ki symbols, and order 1 on exactly three symbols. Each case pins the exact recipe, node length and
/// SHA-256 of the node bytes, and the exact round trip; the neighbour one step across each boundary is pinned too.
/// Written against the mutants of <c>RecipeEncoder.cs</c> (not yet measured by Stryker).
/// </summary>
public class CodecEncoderTopMutationTests
{
    private const CompressionEffort Fast = CompressionEffort.Fast;
    private const CompressionEffort Default = CompressionEffort.Default;
    private const CompressionEffort Max = CompressionEffort.Max;

    private static IEnumerable<TestCaseData> Cases()
    {
        yield return Case("f16equal", Fast, "fields(F16)[exponent:rans-o0 mantissa-low:stored sign+mantissa-high:rans-o0] 2982 ED32CBDF9BD21666");
        yield return Case("f16sign", Fast, "planes(2)[byte0:stored byte1:rans-o0] 2983 F1F7DA568BAEBFDA");
        yield return Case("u32zeros256", Fast, "zeromask(bitmap, 3840 non-zero)[positions:rans-o0 values:stored] 15598 F5C0CDF06BC8A9B6");
        yield return Case("u32zeros255", Fast, "zstd 15907 967DA957D97AFA51");
        yield return Case("f32distinct256", Fast, "palette(global, 256 entries, 8-bit)[codebook:delta(4)[deltas:planes(4)[byte0:stored byte1:stored byte2:zstd byte3:zstd]] indices:stored] 4859 A6693FD006A54D29");
        yield return Case("f32distinct257", Fast, "zstd 7533 7650E9BC947ECB4E");
        yield return Case("f32group32", Fast, "palette(groups of 128, 1024 entries, 8-bit)[groups:zstd codebook:delta(4)[deltas:planes(4)[byte0:stored byte1:stored byte2:zstd byte3:rans-o0]] indices:rans-o0] 5866 83896B0A97D68B15");
        yield return Case("f32group33", Fast, "zstd 7162 7BCEE0ADD589C308");
        yield return Case("i32minvalue", Fast, "zstd 436 4D543BCA0F45F669");
        yield return Case("f32minuszeropalette", Fast, "negzero(683 zeros)[signs:zstd values:palette(global, 6 entries, 8-bit)[codebook:stored indices:rans-o0]] 709 E31C11C6DED1DA2E");
        yield return Case("bf16edge37", Fast, "zeromask(bitmap, 31 non-zero)[positions:stored values:stored] 75 AE9E62A596D7B7C1");
        yield return Case("bf16edge153", Fast, "zeromask(bitmap, 138 non-zero)[positions:stored values:stored] 306 EC5760C25B5F17ED");
        yield return Case("f32edge37", Fast, "zstd 149 522DF9BC182846F2");
        yield return Case("f16equal", Default, "fields(F16)[exponent:rans-o0 mantissa-low:stored sign+mantissa-high:zstd] 2981 5EFE38A3B7FE947A");
        yield return Case("f16sign", Default, "planes(2)[byte0:stored byte1:rans-o0] 2983 F1F7DA568BAEBFDA");
        yield return Case("u32zeros256", Default, "zeromask(bitmap, 3840 non-zero)[positions:zstd values:stored] 15597 3C84F80FE5BEBA4F");
        yield return Case("u32zeros255", Default, "zstd 15854 09D8FD7D8D4439BA");
        yield return Case("f32distinct256", Default, "palette(global, 256 entries, 8-bit)[codebook:delta(4)[deltas:planes(4)[byte0:stored byte1:stored byte2:zstd byte3:zstd]] indices:stored] 4861 82134EF3F1A76B16");
        yield return Case("f32distinct257", Default, "zstd 6507 695DAECB959414B3");
        yield return Case("f32group32", Default, "palette(groups of 128, 1024 entries, 8-bit)[groups:zstd codebook:delta(4)[deltas:planes(4)[byte0:stored byte1:stored byte2:zstd byte3:zstd]] indices:rans-o0] 5856 82ADF9026CACC58F");
        yield return Case("f32group33", Default, "zstd 7060 DD58701BA66EB53E");
        yield return Case("i32minvalue", Default, "palette(global, 41 entries, 8-bit)[codebook:delta(4)[deltas:planes(4)[byte0:zstd byte1:zstd byte2:zstd byte3:zstd]] indices:zstd] 287 8CD329404463930B");
        yield return Case("f32minuszeropalette", Default, "negzero(683 zeros)[signs:zstd values:palette(global, 6 entries, 8-bit)[codebook:stored indices:rans-o1]] 649 53A84AD785F56C97");
        yield return Case("bf16edge37", Default, "zeromask(bitmap, 31 non-zero)[positions:stored values:stored] 75 AE9E62A596D7B7C1");
        yield return Case("bf16edge153", Default, "zeromask(bitmap, 138 non-zero)[positions:stored values:stored] 306 EC5760C25B5F17ED");
        yield return Case("f32edge37", Default, "zstd 145 23EDE8BCBFD0D781");
        yield return Case("f16equal", Max, "fields(F16)[exponent:rans-o0 mantissa-low:stored sign+mantissa-high:cm] 2971 3A4D2B38C91595DC");
        yield return Case("f16sign", Max, "planes(2)[byte0:stored byte1:rans-o0] 2983 F1F7DA568BAEBFDA");
        yield return Case("u32zeros256", Max, "zeromask(bitmap, 3840 non-zero)[positions:cm values:stored] 15594 3E3D34DA0AC51DAC");
        yield return Case("u32zeros255", Max, "zstd 15854 09D8FD7D8D4439BA");
        yield return Case("f32distinct256", Max, "palette(global, 256 entries, 8-bit)[codebook:delta(4)[deltas:planes(4)[byte0:stored byte1:stored byte2:cm byte3:cm]] indices:stored] 4828 E4761E96C215C630");
        yield return Case("f32distinct257", Max, "zstd 6507 695DAECB959414B3");
        yield return Case("f32group32", Max, "palette(groups of 128, 1024 entries, 8-bit)[groups:cm codebook:delta(4)[deltas:planes(4)[byte0:stored byte1:stored byte2:zstd byte3:cm]] indices:rans-o0] 5807 6C196400467EAAAF");
        yield return Case("f32group33", Max, "zstd 7060 DD58701BA66EB53E");
        yield return Case("i32minvalue", Max, "planes(4)[byte0:zstd byte1:cm byte2:cm byte3:cm] 229 0CD08D35B0B6554F");
        yield return Case("f32minuszeropalette", Max, "negzero(683 zeros)[signs:cm values:palette(global, 6 entries, 8-bit)[codebook:stored indices:cm]] 487 9E3BEECC1BF8F6C4");
        yield return Case("bf16edge37", Max, "zeromask(bitmap, 31 non-zero)[positions:stored values:stored] 75 AE9E62A596D7B7C1");
        yield return Case("bf16edge153", Max, "zeromask(bitmap, 138 non-zero)[positions:stored values:stored] 306 EC5760C25B5F17ED");
        yield return Case("f32edge37", Max, "zstd 145 23EDE8BCBFD0D781");
        yield return Case("bf16affinerow0", Fast, "palette(groups of 128, f32 scales, 64 entries, 8-bit)[groups:zstd codebook:deadbits(F32->24 bits)[narrow:planes(3)[byte0:stored byte1:stored byte2:rans-o0]] indices:zstd] 3977 08F7AADE263A9963");
        yield return Case("f32tiled1mib", Fast, "zstd 67645 58FC1DA5C55381ED");
    }

    private static TestCaseData Case(string input, CompressionEffort effort, string expected) =>
        new TestCaseData(input, effort, expected).SetArgDisplayNames(input, effort.ToString());

    private static (DType DType, int Row, byte[] Data) Input(string name) => name switch
    {
        "f16equal" => (DType.F16, 0, F16(2048, 50, signFollowsExponent: false)),
        "f16sign" => (DType.F16, 0, F16(2048, 50, signFollowsExponent: true)),
        "u32zeros256" => (DType.U32, 0, U32WithZeros(4096, 256, 51)),
        "u32zeros255" => (DType.U32, 0, U32WithZeros(4096, 255, 51)),
        "f32distinct256" => (DType.F32, 0, Distinct(4096, 256, 52)),
        "f32distinct257" => (DType.F32, 0, Distinct(4096, 257, 52)),
        "f32group32" => (DType.F32, 0, GroupDistinct(4096, 32, 53)),
        "f32group33" => (DType.F32, 0, GroupDistinct(4096, 33, 53)),
        "i32minvalue" => (DType.I32, 0, CodecSamples.Integers(Enumerable.Range(0, 2048).Select(i => i % 3 == 0 ? int.MinValue : (long)new Random(54 + i).Next(40)), 4)),
        "f32minuszeropalette" => (DType.F32, 0, MinusZeroPalette(2048, 55)),
        "bf16edge37" => (DType.BF16, 0, SparseNoise(37 * 2, 37 * 31 + 2, 2)),
        "bf16edge153" => (DType.BF16, 0, SparseNoise(153 * 2, 153 * 31 + 5, 5)),
        "f32edge37" => (DType.F32, 0, SparseNoise(37 * 4, 37 * 31 + 2, 2)),
        "bf16affinerow0" => (DType.BF16, 0, Z4Ai.Tests.Transforms.PaletteTests.CodesThroughF32(DType.BF16, 16, 256, 127, 22)),
        "f32tiled1mib" => (DType.F32, 0, Tiled(EffortProfile.SmallStreamLength, 65536 + 1025, 57)),
        _ => throw new ArgumentException(name, nameof(name)),
    };

    [TestCaseSource(nameof(Cases))]
    public void EncodeTyped_BoundaryInput_GivesPinnedRecipeLengthAndBytes(string input, CompressionEffort effort, string expected)
    {
        (DType dtype, int row, byte[] data) = Input(input);
        string actual = CodecEncoderChoiceMutationTests.Encode(data, dtype, row, 0, effort);
        TestContext.Out.WriteLine($"ACTUAL\t{input}|{effort}\t{actual}");
        Assert.That(actual, Is.EqualTo(expected));
    }

    private static IEnumerable<TestCaseData> SymbolCases()
    {
        yield return new TestCaseData(4095, 0, Default, "0128B52FFD60 zstd 1362 5E17EAA74D1F8BC1");
        yield return new TestCaseData(4096, 0, Default, "020306000620 cm 1326 A437F31A8A7F0C69");
        yield return new TestCaseData(65536, 0, Default, "020306002A04 cm 13261 7A8E4808C6B20334");
        yield return new TestCaseData(65537, 0, Default, "0128B52FFD60 zstd 17139 9CDFEFAD16F38DD4");
        yield return new TestCaseData(1024, 1024, Max, "02030600120E cm 396 C3A778E7B424D6DA");
        yield return new TestCaseData(1024, 1023, Max, "020306FF0712 cm 360 696D37D60DF9AFC1");
        yield return new TestCaseData(2000, -3, Default, "020204210345 rans-o1 213 3633F86AE1C30092");
        yield return new TestCaseData(1024, 32, Max, "02030620120E cm 397 9A93CE117D3E851B");
    }

    [TestCaseSource(nameof(SymbolCases))]
    public void EncodeSymbols_LengthAndRow_GivesPinnedLeaf(int length, int row, CompressionEffort effort, string expected)
    {
        // Row -3 stands for the three-symbol chain (coded with no row).
        byte[] data = row == -3 ? Cycle3(length, 58) : effort == Max ? Markov1(length, 56) : Markov(length, 56);
        row = Math.Max(0, row);
        var output = new ArrayBufferWriter<byte>();
        int written = new RecipeEncoder(effort).EncodeSymbols(data, 8, row, output);
        byte[] node = output.WrittenSpan.ToArray();
        Assert.That(written, Is.EqualTo(node.Length), "returned length");
        Assert.That(CodecEncoderChoiceMutationTests.Decode(node, length), Is.EqualTo(data), "round trip");
        string actual = $"{Convert.ToHexString(node[..Math.Min(6, node.Length)])} {CodecEncoderChoiceMutationTests.Describe(node, length)} {node.Length} {Convert.ToHexString(SHA256.HashData(node))[..16]}";
        TestContext.Out.WriteLine($"ACTUAL\t{length}|{row}|{effort}\t{actual}");
        Assert.That(actual, Is.EqualTo(expected));
    }

    /// <summary>Three symbols (0, 7, 9) cycling in order four times in five: order 1 pays on exactly three symbols.</summary>
    private static byte[] Cycle3(int n, int seed)
    {
        var r = new Random(seed);
        byte[] symbols = [0, 7, 9];
        byte[] b = new byte[n];
        int s = 0;
        for (int i = 0; i < n; i++)
        {
            s = r.Next(5) < 4 ? (s + 1) % 3 : r.Next(3);
            b[i] = symbols[s];
        }

        return b;
    }

    /// <summary>
    /// <paramref name="length"/> bytes repeating a random tile longer than the 64 KiB zstd probe sample: only a
    /// probe over the whole stream (streams of at most 1 MiB) sees the repeats.
    /// </summary>
    private static byte[] Tiled(int length, int tile, int seed)
    {
        byte[] pattern = CodecSamples.Noise(tile, new Random(seed));
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++)
        {
            b[i] = pattern[i % tile];
        }

        return b;
    }

    /// <summary>Symbols 0 to 15 times 3 from a chain that mostly steps to the next state.</summary>
    private static byte[] Markov1(int n, int seed)
    {
        var r = new Random(seed);
        byte[] b = new byte[n];
        int s = 0;
        for (int i = 0; i < n; i++)
        {
            s = r.Next(10) < 7 ? (s + 1) % 16 : r.Next(16);
            b[i] = (byte)(s * 3);
        }

        return b;
    }

    /// <summary>Symbols 0 to 15 times 3, each mostly the sum of the two before it (mod 16): an order-2 chain that
    /// order-1 tables cannot follow and context mixing can.</summary>
    private static byte[] Markov(int n, int seed)
    {
        var r = new Random(seed);
        byte[] b = new byte[n];
        int s1 = 1, s2 = 0;
        for (int i = 0; i < n; i++)
        {
            int s = r.Next(10) < 8 ? (s1 + s2) % 16 : r.Next(16);
            (s2, s1) = (s1, s);
            b[i] = (byte)(s * 3);
        }

        return b;
    }

    /// <summary>
    /// F16 patterns with a random low byte, exponents 10 to 20, the top two mantissa bits zero, and the sign
    /// constant (so the high byte's order-0 bound equals the exponent's exactly) or set on odd exponents.
    /// </summary>
    private static byte[] F16(int n, int seed, bool signFollowsExponent)
    {
        var r = new Random(seed);
        byte[] bytes = new byte[n * 2];
        for (int i = 0; i < n; i++)
        {
            int exponent = 10 + r.Next(11);
            int bits = (exponent << 10) | r.Next(256) | (signFollowsExponent && exponent % 2 == 1 ? 0x8000 : 0);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), (ushort)bits);
        }

        return bytes;
    }

    /// <summary>Random non-zero U32 values with exactly <paramref name="zeros"/> zeros at random places.</summary>
    private static byte[] U32WithZeros(int n, int zeros, int seed)
    {
        var r = new Random(seed);
        byte[] bytes = new byte[n * 4];
        for (int i = 0; i < n; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4 * i), 1u + (uint)r.NextInt64(uint.MaxValue));
        }

        foreach (int i in Enumerable.Range(0, n).OrderBy(_ => r.Next()).Take(zeros))
        {
            bytes.AsSpan(4 * i, 4).Clear();
        }

        return bytes;
    }

    /// <summary>
    /// Random bytes, each then zeroed with probability 1 / <paramref name="zeroOneIn"/>. The seeds were picked (by a
    /// search over lengths and seeds) so that the best candidate costs exactly the stored size plus one byte
    /// (bf16edge37: a 75-byte zero mask for 74 bytes; f32edge37: 149 bytes of zstd for 148), where it is kept, or
    /// exactly the input length (bf16edge153).
    /// </summary>
    private static byte[] SparseNoise(int bytes, int seed, int zeroOneIn)
    {
        var r = new Random(seed);
        byte[] data = CodecSamples.Noise(bytes, r);
        for (int i = 0; i < data.Length; i++)
        {
            if (r.Next(zeroOneIn) == 0)
            {
                data[i] = 0;
            }
        }

        return data;
    }

    /// <summary>F32 drawn from exactly <paramref name="distinct"/> random values, each of them present.</summary>
    private static byte[] Distinct(int n, int distinct, int seed)
    {
        var r = new Random(seed);
        float[] set = Enumerable.Range(0, distinct).Select(_ => (float)(r.NextDouble() - 0.5)).ToArray();
        float[] v = new float[n];
        for (int i = 0; i < n; i++)
        {
            v[i] = i < distinct ? set[i] : set[r.Next(distinct)];
        }

        return CodecSamples.F32(v);
    }

    /// <summary>F32 in groups of 128 elements, each group drawn from its own <paramref name="perGroup"/> random
    /// values, each of them present.</summary>
    private static byte[] GroupDistinct(int n, int perGroup, int seed)
    {
        var r = new Random(seed);
        float[] v = new float[n];
        float[] set = [];
        for (int i = 0; i < n; i++)
        {
            if (i % 128 == 0)
            {
                set = Enumerable.Range(0, perGroup).Select(_ => (float)(r.NextDouble() - 0.5)).ToArray();
            }

            v[i] = i % 128 < perGroup ? set[i % 128] : set[r.Next(perGroup)];
        }

        return CodecSamples.F32(v);
    }

    /// <summary>F32 from five values, a third of the elements -0.0 (a palette works on them as they are).</summary>
    private static byte[] MinusZeroPalette(int n, int seed)
    {
        var r = new Random(seed);
        double[] set = [0.1, -0.3, 0.7, 1.3, -2.9];
        return CodecSamples.F32(Enumerable.Range(0, n).Select(i => i % 3 == 0 ? -0f : (float)set[r.Next(5)]).ToArray());
    }
}
