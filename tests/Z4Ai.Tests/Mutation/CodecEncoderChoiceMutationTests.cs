using System.Buffers;
using System.Security.Cryptography;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Internal;
using Z4Ai.Tests.Codecs;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// The recipe encoder's choices, pinned: for inputs built so that each candidate of <see cref="RecipeEncoder"/> wins
/// somewhere (bool-pack, stored, order-0 and order-1 rANS, context mixing, zstd, the archival model, fields, byte
/// planes, dead bits with and without a narrow dtype, zero masks in both layouts, negative zeros, global, grouped and
/// affine palettes, integer packing, deltas), at each effort, and on both sides of the encoder's size thresholds
/// (32 elements, 256 flags, 1024 symbols, 1/16 zeros, a row length that does not divide the count), the exact
/// recipe, node length and SHA-256 of the node bytes, and the node decodes back to the input. A change in any
/// selection rule, threshold or node layout changes one of them; frames already written keep decoding either way
/// (the decoder is pinned by the golden frames), so a deliberate change of the encoder updates this table.
/// Aimed at Stryker's mutants in the encoder (written from the code; the encoder had no mutation report yet).
/// </summary>
public class CodecEncoderChoiceMutationTests
{
    private const CompressionEffort Fast = CompressionEffort.Fast;
    private const CompressionEffort Default = CompressionEffort.Default;
    private const CompressionEffort Max = CompressionEffort.Max;
    private const CompressionEffort Archive = CompressionEffort.Archive;

    private static IEnumerable<TestCaseData> Cases()
    {
        yield return Case("bool256", Fast, "boolpack[packed:stored] 36 9031CA46ADB9C316");
        yield return Case("bool255", Fast, "rans-o0 43 A1661B9AF9D6EE59");
        yield return Case("u8flags256", Fast, "boolpack[packed:stored] 36 F89718AA6BEBD6E6");
        yield return Case("u8skew31", Fast, "stored 32 15DB9368F1221EDB");
        yield return Case("u8skew32", Fast, "rans-o0 26 331BE47AFAD56C93");
        yield return Case("u8skew2000", Fast, "rans-o0 385 8CBD8330CC46F19F");
        yield return Case("bf16w31", Fast, "stored 63 D2C6642B5BA41FCF");
        yield return Case("bf16w32", Fast, "stored 65 45BD26CB5AE54155");
        yield return Case("bf16w4096r256", Fast, "fields(BF16)[exponent:shift(256)[offsets:stored shifted:rans-o0] sign+mantissa:stored] 5496 7EC6F2DE2050EF5E");
        yield return Case("bf16row300", Fast, "fields(BF16)[exponent:rans-o0 sign+mantissa:stored] 5517 460B0CBEEA8C9915");
        yield return Case("f32w2048r256", Fast, "fields(F32)[exponent:rans-o0 mantissa-low:stored mantissa-mid:stored sign+mantissa-high:stored] 6853 0BF071A61F55D8EA");
        yield return Case("f32w2048r0", Fast, "fields(F32)[exponent:rans-o0 mantissa-low:stored mantissa-mid:stored sign+mantissa-high:stored] 6853 0BF071A61F55D8EA");
        yield return Case("f32odd", Fast, "stored 399 E79D7CEDA20F92DE");
        yield return Case("f16w2048", Fast, "planes(2)[byte0:stored byte1:rans-o0] 3566 9B85FCB6CD8D77F2");
        yield return Case("f32bf16", Fast, "deadbits(F32->BF16)[narrow:fields(BF16)[exponent:shift(256)[offsets:stored shifted:rans-o0] sign+mantissa:stored]] 1396 24DFC02111FD9A47");
        yield return Case("f32half", Fast, "deadbits(F32->F16)[narrow:planes(2)[byte0:stored byte1:rans-o0]] 1832 EC0E06B7F90DDCAE");
        yield return Case("bf16prune2", Fast, "zeromask(bitmap, 1012 non-zero)[positions:stored values:fields(BF16)[exponent:rans-o0 sign+mantissa:stored]] 1647 24BF9F118A8473BF");
        yield return Case("bf16prune20", Fast, "zeromask(gaps, 107 non-zero)[positions:stored values:fields(BF16)[exponent:rans-o0 sign+mantissa:stored]] 286 AD55647A832F2E73");
        yield return Case("f32negzero", Fast, "negzero(191 zeros)[signs:stored values:palette(global, 50 entries, 8-bit)[codebook:delta(4)[deltas:planes(4)[byte0:stored byte1:stored byte2:stored byte3:zstd]] indices:rans-o0]] 878 B9B8FDE48426D5F1");
        yield return Case("f32int8", Fast, "negzero(38 zeros)[signs:stored values:palette(global, 184 entries, 8-bit)[codebook:delta(4)[deltas:planes(4)[byte0:zstd byte1:zstd byte2:zstd byte3:zstd]] indices:zstd]] 2219 1E79596EA7D15A5A");
        yield return Case("i32sorted", Fast, "intpack(delta, 6 bits)[packed:stored] 783 3176610207B6C2EE");
        yield return Case("i64small", Fast, "delta(8)[deltas:planes(8)[byte0:zstd byte1:zstd byte2:zstd byte3:rans-o0 byte4:rans-o0 byte5:rans-o0 byte6:rans-o0 byte7:rans-o0]] 241 AE26F3E6684C3CDC");
        yield return Case("i16noise", Fast, "stored 2049 8AC88A1E55B9A05A");
        yield return Case("f32noise", Fast, "stored 4097 D0736E30A75A24F1");
        yield return Case("f32tiled", Fast, "zstd 533 6B6E60848E4956DD");
        yield return Case("c64w", Fast, "fields(F32)[exponent:rans-o0 mantissa-low:stored mantissa-mid:stored sign+mantissa-high:stored] 6842 EF7879FBAC6CC4BE");
        yield return Case("f64w", Fast, "deadbits(F64->F32)[narrow:fields(F32)[exponent:rans-o0 mantissa-low:stored mantissa-mid:stored sign+mantissa-high:stored]] 3460 6ECAF91B5862EFC3");
        yield return Case("f32codes", Fast, "palette(global, 9 entries, 8-bit)[codebook:stored indices:rans-o0] 1543 627EE3DAB87024B3");
        yield return Case("bf16affine127", Fast, "palette(groups of 256, f32 scales, 32 entries, 8-bit)[groups:zstd codebook:stored indices:zstd] 3944 90D76AED38153164");
        yield return Case("bf16affine7", Fast, "zeromask(bitmap, 3352 non-zero)[positions:rans-o0 values:fields(BF16)[exponent:rans-o0 sign+mantissa:zstd]] 3002 A6E02EB4F8B90965");
        yield return Case("f32rows", Fast, "palette(groups of 64, 32 entries, 8-bit)[groups:zstd codebook:delta(4)[deltas:planes(4)[byte0:stored byte1:zstd byte2:zstd byte3:zstd]] indices:rans-o0] 1026 D717F025D6BD6FD9");
        yield return Case("f32low8", Fast, "fields(F32)[exponent:rans-o0 mantissa-low:rans-o0 mantissa-mid:stored sign+mantissa-high:stored] 2447 5CFED0DEF067CBCF");
        yield return Case("f32low24", Fast, "deadbits(F32->F16)[narrow:deadbits(F16->F8_E5M2)[narrow:rans-o0]] 124 30142A5C6AE89B1F");
        yield return Case("f64low16", Fast, "deadbits(F64->F32)[narrow:fields(F32)[exponent:rans-o0 mantissa-low:stored mantissa-mid:stored sign+mantissa-high:stored]] 1746 03823E97F455E439");
        yield return Case("u8markov", Fast, "zstd 890 B384C651E93B21B6");
        yield return Case("u8markov1023", Fast, "zstd 263 A35B1D8F10E24FF3");
        yield return Case("u8markov1024", Fast, "zstd 263 57E0D42E333A56BF");
        yield return Case("u8two", Fast, "rans-o0 390 D7FE5451EB53CBF6");
        yield return Case("i8codes", Fast, "rans-o0 2417 CE924015517A34CB");
        yield return Case("bf16zeros1of16", Fast, "fields(BF16)[exponent:rans-o0 sign+mantissa:stored] 5619 094ABB8903938AD6");
        yield return Case("u16mostlyzero", Fast, "zeromask(gaps, 256 non-zero)[positions:zstd values:stored] 543 5928DEE9D16C595E");
        yield return Case("u32mostlyzero17", Fast, "zeromask(gaps, 121 non-zero)[positions:zstd values:stored] 511 B8DB4E13C923F499");
        yield return Case("f32big", Fast, "fields(F32)[exponent:rans-o0 mantissa-low:stored mantissa-mid:stored sign+mantissa-high:stored] 66724 D6EED77FFC2399A6");
        yield return Case("bf16tiledbig", Fast, "zstd 536 6EDCCB2DBC9D22EB");
        yield return Case("bool256", Default, "boolpack[packed:stored] 36 9031CA46ADB9C316");
        yield return Case("bool255", Default, "rans-o0 43 A1661B9AF9D6EE59");
        yield return Case("u8flags256", Default, "boolpack[packed:stored] 36 F89718AA6BEBD6E6");
        yield return Case("u8skew31", Default, "stored 32 15DB9368F1221EDB");
        yield return Case("u8skew32", Default, "zstd 28 9B993CDC82AC1200");
        yield return Case("u8skew2000", Default, "rans-o0 385 8CBD8330CC46F19F");
        yield return Case("bf16w31", Default, "stored 63 D2C6642B5BA41FCF");
        yield return Case("bf16w32", Default, "stored 65 45BD26CB5AE54155");
        yield return Case("bf16w4096r256", Default, "fields(BF16)[exponent:shift(256)[offsets:stored shifted:rans-rows] sign+mantissa:stored] 5492 BDD3FC2C20B8B56E");
        yield return Case("bf16row300", Default, "fields(BF16)[exponent:rans-o0 sign+mantissa:stored] 5517 460B0CBEEA8C9915");
        yield return Case("f32w2048r256", Default, "fields(F32)[exponent:rans-o0 mantissa-low:stored mantissa-mid:stored sign+mantissa-high:stored] 6853 0BF071A61F55D8EA");
        yield return Case("f32w2048r0", Default, "fields(F32)[exponent:rans-o0 mantissa-low:stored mantissa-mid:stored sign+mantissa-high:stored] 6853 0BF071A61F55D8EA");
        yield return Case("f32odd", Default, "stored 399 E79D7CEDA20F92DE");
        yield return Case("f16w2048", Default, "planes(2)[byte0:stored byte1:rans-o0] 3566 9B85FCB6CD8D77F2");
        yield return Case("f32bf16", Default, "deadbits(F32->BF16)[narrow:fields(BF16)[exponent:shift(256)[offsets:stored shifted:rans-o0] sign+mantissa:stored]] 1396 24DFC02111FD9A47");
        yield return Case("f32half", Default, "deadbits(F32->F16)[narrow:planes(2)[byte0:stored byte1:rans-o0]] 1832 EC0E06B7F90DDCAE");
        yield return Case("bf16prune2", Default, "zeromask(bitmap, 1012 non-zero)[positions:stored values:fields(BF16)[exponent:rans-o0 sign+mantissa:stored]] 1647 24BF9F118A8473BF");
        yield return Case("bf16prune20", Default, "zeromask(gaps, 107 non-zero)[positions:stored values:fields(BF16)[exponent:rans-o0 sign+mantissa:stored]] 286 AD55647A832F2E73");
        yield return Case("f32negzero", Default, "negzero(191 zeros)[signs:stored values:palette(global, 50 entries, 8-bit)[codebook:zstd indices:rans-rows]] 685 E17C0F695DB24CFA");
        yield return Case("f32int8", Default, "negzero(38 zeros)[signs:stored values:palette(global, 184 entries, 8-bit)[codebook:delta(4)[deltas:planes(4)[byte0:zstd byte1:zstd byte2:zstd byte3:zstd]] indices:zstd]] 2187 863B2E67BE53EBD6");
        yield return Case("i32sorted", Default, "intpack(delta, 6 bits)[packed:stored] 783 3176610207B6C2EE");
        yield return Case("i64small", Default, "delta(8)[deltas:planes(8)[byte0:zstd byte1:zstd byte2:zstd byte3:zstd byte4:zstd byte5:zstd byte6:zstd byte7:zstd]] 213 9BBCAA41B38E19DF");
        yield return Case("i16noise", Default, "stored 2049 8AC88A1E55B9A05A");
        yield return Case("f32noise", Default, "stored 4097 D0736E30A75A24F1");
        yield return Case("f32tiled", Default, "zstd 533 6B6E60848E4956DD");
        yield return Case("c64w", Default, "fields(F32)[exponent:rans-o0 mantissa-low:stored mantissa-mid:stored sign+mantissa-high:stored] 6842 EF7879FBAC6CC4BE");
        yield return Case("f64w", Default, "deadbits(F64->F32)[narrow:fields(F32)[exponent:rans-o0 mantissa-low:stored mantissa-mid:stored sign+mantissa-high:stored]] 3460 6ECAF91B5862EFC3");
        yield return Case("f32codes", Default, "palette(global, 9 entries, 8-bit)[codebook:stored indices:rans-o0] 1543 627EE3DAB87024B3");
        yield return Case("f32rows", Default, "palette(groups of 64, 32 entries, 8-bit)[groups:zstd codebook:delta(4)[deltas:planes(4)[byte0:stored byte1:zstd byte2:zstd byte3:zstd]] indices:rans-o0] 1029 D1742A80E8EF9A5F");
        yield return Case("f32low8", Default, "fields(F32)[exponent:rans-o0 mantissa-low:zstd mantissa-mid:stored sign+mantissa-high:stored] 2446 D27E8F23BB9A3B34");
        yield return Case("f32low24", Default, "deadbits(F32->F16)[narrow:deadbits(F16->F8_E5M2)[narrow:rans-o0]] 124 30142A5C6AE89B1F");
        yield return Case("f64low16", Default, "deadbits(F64->F32)[narrow:fields(F32)[exponent:rans-o0 mantissa-low:stored mantissa-mid:stored sign+mantissa-high:stored]] 1746 03823E97F455E439");
        yield return Case("u8markov", Default, "rans-o1 565 EADE14FC6CC1A111");
        yield return Case("u8markov1023", Default, "zstd 231 8C9CBB462810A53C");
        yield return Case("u8markov1024", Default, "rans-o1 185 92F2B04157660B68");
        yield return Case("u8two", Default, "zstd 294 59B506ECCF9D9EBD");
        yield return Case("i8codes", Default, "archive-cm 2419 49021ED98C3F244F");
        yield return Case("bf16zeros1of16", Default, "fields(BF16)[exponent:rans-o0 sign+mantissa:zstd] 5573 37FA531E5C79DABC");
        yield return Case("u16mostlyzero", Default, "zeromask(gaps, 256 non-zero)[positions:zstd values:stored] 544 685B2F4961C5902C");
        yield return Case("u32mostlyzero17", Default, "zeromask(gaps, 121 non-zero)[positions:zstd values:stored] 512 6B1917BB1A5412A9");
        yield return Case("bf16tiledbig", Default, "zstd 536 6EDCCB2DBC9D22EB");
        yield return Case("bool255", Max, "cm 36 126779C6C0DC8E9B");
        yield return Case("u8skew32", Max, "cm 16 A70D7E38D732613F");
        yield return Case("u8skew2000", Max, "cm 388 8C9DF612FB1AE185");
        yield return Case("u8markov1024", Max, "cm 174 B0748A285B9F0ADC");
        yield return Case("u8two", Max, "cm 194 2EC6C62042B03475");
        yield return Case("i32sorted", Max, "delta(4)[deltas:planes(4)[byte0:rans-o0 byte1:cm byte2:cm byte3:cm]] 754 FDC14EDE9F39AFF7");
        yield return Case("i64small", Max, "delta(8)[deltas:planes(8)[byte0:zstd byte1:cm byte2:cm byte3:cm byte4:cm byte5:cm byte6:cm byte7:cm]] 144 592B2002AA17170A");
        yield return Case("f32w2048r0", Max, "fields(F32)[exponent:cm mantissa-low:stored mantissa-mid:stored sign+mantissa-high:stored] 6852 FA6867A948A92E96");
        yield return Case("f64w", Max, "deadbits(F64->F32)[narrow:fields(F32)[exponent:cm mantissa-low:stored mantissa-mid:stored sign+mantissa-high:stored]] 3457 2F22CC5C477CE814");
        yield return Case("f32low24", Max, "deadbits(F32->F16)[narrow:deadbits(F16->F8_E5M2)[narrow:cm]] 119 BA9056A0EB69EC2E");
        yield return Case("u16mostlyzero", Max, "zeromask(gaps, 256 non-zero)[positions:cm values:stored] 533 4173AE326BC7DDB4");
        yield return Case("bf16prune20", Max, "zeromask(gaps, 107 non-zero)[positions:stored values:fields(BF16)[exponent:cm sign+mantissa:stored]] 275 9113D6C6EA57CD73");
        yield return Case("f32noise", Max, "stored 4097 D0736E30A75A24F1");
        yield return Case("f16w2048", Max, "planes(2)[byte0:stored byte1:rans-o0] 3566 9B85FCB6CD8D77F2");
        yield return Case("u8skew2000", Archive, "cm 388 8C9DF612FB1AE185");
        yield return Case("u8markov", Archive, "cm 566 0571E127A7A217F3");
    }

    private static TestCaseData Case(string input, CompressionEffort effort, string expected) =>
        new TestCaseData(input, effort, expected).SetArgDisplayNames(input, effort.ToString());

    /// <summary>The inputs: dtype, row length and bytes.</summary>
    private static (DType DType, int Row, byte[] Data) Input(string name) => name switch
    {
        "bool256" => (DType.BOOL, 0, Flags(256, 7)),
        "bool255" => (DType.BOOL, 0, Flags(255, 7)),
        "u8flags256" => (DType.U8, 0, Flags(256, 5)),
        "u8skew31" => (DType.U8, 0, Skewed(31, 1)),
        "u8skew32" => (DType.U8, 0, Skewed(32, 1)),
        "u8skew2000" => (DType.U8, 0, Skewed(2000, 2)),
        "bf16w31" => (DType.BF16, 0, CodecSamples.Bf16(CodecSamples.Weights(31, new Random(4)))),
        "bf16w32" => (DType.BF16, 0, CodecSamples.Bf16(CodecSamples.Weights(32, new Random(4)))),
        "bf16w4096r256" => (DType.BF16, 256, CodecSamples.Bf16(CodecSamples.Weights(4096, new Random(5)))),
        "bf16row300" => (DType.BF16, 300, CodecSamples.Bf16(CodecSamples.Weights(4096, new Random(5)))),
        "f32w2048r256" => (DType.F32, 256, CodecSamples.F32(CodecSamples.Weights(2048, new Random(6)))),
        "f32w2048r0" => (DType.F32, 0, CodecSamples.F32(CodecSamples.Weights(2048, new Random(6)))),
        "f32odd" => (DType.F32, 0, CodecSamples.F32(CodecSamples.Weights(100, new Random(6)))[..398]),
        "f16w2048" => (DType.F16, 256, CodecSamples.F16(CodecSamples.Weights(2048, new Random(7)))),
        "f32bf16" => (DType.F32, 256, CodecSamples.F32(CodecSamples.ThroughBf16(CodecSamples.Weights(1024, new Random(8))))),
        "f32half" => (DType.F32, 256, CodecSamples.F32(CodecSamples.ThroughHalf(CodecSamples.Weights(1024, new Random(8))))),
        "bf16prune2" => (DType.BF16, 256, CodecSamples.Bf16(CodecSamples.Prune(CodecSamples.Weights(2048, new Random(9)), new Random(10), 2))),
        "bf16prune20" => (DType.BF16, 256, CodecSamples.Bf16(Sparse(2048, 20, 11))),
        "f32negzero" => (DType.F32, 256, CodecSamples.F32(CodecSamples.Dequantise(CodecSamples.Weights(1024, new Random(12)), 7, perRow: true))),
        "f32int8" => (DType.F32, 256, CodecSamples.F32(CodecSamples.Dequantise(CodecSamples.Weights(2048, new Random(13)), 127, perRow: false))),
        "i32sorted" => (DType.I32, 0, CodecSamples.Integers(Sorted(1024, 14), 4)),
        "i64small" => (DType.I64, 0, CodecSamples.Integers(Enumerable.Range(0, 512).Select(i => 100000L + new Random(i).Next(300)), 8)),
        "i16noise" => (DType.I16, 0, CodecSamples.Noise(2048, new Random(15))),
        "f32noise" => (DType.F32, 0, CodecSamples.Noise(4096, new Random(16))),
        "f32tiled" => (DType.F32, 0, Tiled(8192, 17)),
        "c64w" => (DType.C64, 128, CodecSamples.F32(CodecSamples.Weights(2048, new Random(18)))),
        "f64w" => (DType.F64, 0, CodecSamples.F64(CodecSamples.Weights(1024, new Random(19)))),
        "f32codes" => (DType.F32, 0, CodecSamples.F32(Codes(4096, 9, 20).Select(c => (c - 4) * 0.1f).ToArray())),
        "bf16affine127" => (DType.BF16, 256, Z4Ai.Tests.Transforms.PaletteTests.CodesThroughF32(DType.BF16, 16, 256, 127, 22)),
        "bf16affine7" => (DType.BF16, 256, Z4Ai.Tests.Transforms.PaletteTests.CodesThroughF32(DType.BF16, 16, 256, 7, 21)),
        "f32rows" => (DType.F32, 64, CodecSamples.F32(AffineRows(32, 64, 23).ToArray())),
        "f32low8" => (DType.F32, 0, LowZero(CodecSamples.F32(CodecSamples.Weights(1024, new Random(24))), 4, 1)),
        "f32low24" => (DType.F32, 0, LowZero(CodecSamples.F32(Codes(1024, 30, 25).Select(c => (float)c).ToArray()), 4, 3)),
        "f64low16" => (DType.F64, 0, LowZero(CodecSamples.F64(CodecSamples.Weights(512, new Random(26))), 8, 2)),
        "u8markov" => (DType.U8, 0, Markov(4000, 27)),
        "u8markov1023" => (DType.U8, 0, Markov(1023, 27)),
        "u8markov1024" => (DType.U8, 0, Markov(1024, 27)),
        "u8two" => (DType.U8, 0, Markov2(3000, 28)),
        "i8codes" => (DType.I8, 0, CodecSamples.U8Codes(3000, new Random(29))),
        "bf16zeros1of16" => (DType.BF16, 0, ZeroEvery(CodecSamples.Bf16(CodecSamples.Weights(4096, new Random(30))), 2, 16)),
        "u16mostlyzero" => (DType.U16, 0, ZeroEvery(CodecSamples.Noise(8192, new Random(31)), 2, 1, keepEvery: 16)),
        "u32mostlyzero17" => (DType.U32, 0, ZeroEvery(CodecSamples.Noise(8192, new Random(32)), 4, 1, keepEvery: 17)),
        "f32big" => (DType.F32, 256, CodecSamples.F32(CodecSamples.Weights(20000, new Random(33)))),
        "bf16tiledbig" => (DType.BF16, 0, Tiled(70000, 34)),
        _ => throw new ArgumentException(name, nameof(name)),
    };

    [TestCaseSource(nameof(Cases))]
    public void EncodeTyped_Input_GivesPinnedRecipeLengthAndBytes(string input, CompressionEffort effort, string expected)
    {
        (DType dtype, int row, byte[] data) = Input(input);
        string actual = Encode(data, dtype, row, 0, effort);
        TestContext.Out.WriteLine($"ACTUAL\t{input}|{effort}\t{actual}");
        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public void EncodeTyped_TwoLevelsBelowTheNestingLimit_CodesALeaf()
    {
        // Depth MaxDepth - 3 still gets a transform; from MaxDepth - 2 on only a leaf fits under the limit.
        (DType dtype, int row, byte[] weights) = Input("bf16w4096r256");
        (DType boolType, _, byte[] flags) = Input("bool256");
        foreach (CompressionEffort effort in new[] { Fast, Default })
        {
            Assert.That(EncodeAt(weights, dtype, row, RecipeDecoder.MaxDepth - 3, effort), Does.StartWith("fields(BF16)["));
            Assert.That(EncodeAt(weights, dtype, row, RecipeDecoder.MaxDepth - 2, effort), Does.Not.Contain("("));
            Assert.That(EncodeAt(flags, boolType, 0, RecipeDecoder.MaxDepth - 3, effort), Is.EqualTo("boolpack[packed:stored]"));
            Assert.That(EncodeAt(flags, boolType, 0, RecipeDecoder.MaxDepth - 2, effort), Does.Not.Contain("("));
        }
    }

    /// <summary>Encodes at <paramref name="depth"/>, checks the returned length and the round trip, and returns
    /// the description, node length and the first 16 hex digits of the node's SHA-256.</summary>
    internal static string Encode(byte[] data, DType dtype, int row, int depth, CompressionEffort effort)
    {
        byte[] node = EncodeNode(data, dtype, row, depth, effort);
        return $"{Describe(node, data.Length)} {node.Length} {Convert.ToHexString(SHA256.HashData(node))[..16]}";
    }

    private static string EncodeAt(byte[] data, DType dtype, int row, int depth, CompressionEffort effort) =>
        Describe(EncodeNode(data, dtype, row, depth, effort), data.Length);

    private static byte[] EncodeNode(byte[] data, DType dtype, int row, int depth, CompressionEffort effort)
    {
        var output = new ArrayBufferWriter<byte>();
        int written = new RecipeEncoder(effort).EncodeTyped(data, dtype, row, depth, output);
        byte[] node = output.WrittenSpan.ToArray();
        Assert.That(written, Is.EqualTo(node.Length), "returned length");
        Assert.That(Decode(node, data.Length), Is.EqualTo(data), "round trip");
        return node;
    }

    internal static byte[] Frame(byte[] node, int rawLength)
    {
        var frame = new ArrayBufferWriter<byte>();
        frame.Write(new byte[] { (byte)CodecId.Recipe });
        VarInt.Write(frame, (ulong)rawLength);
        frame.Write(node);
        return frame.WrittenSpan.ToArray();
    }

    internal static string Describe(byte[] node, int rawLength) => RecipeInspector.Describe(Frame(node, rawLength));

    internal static byte[] Decode(byte[] node, int rawLength)
    {
        byte[] back = new byte[rawLength];
        TensorCodec.Decode(Frame(node, rawLength), back);
        return back;
    }


    private static byte[] Flags(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (byte)(r.Next(5) == 0 ? 1 : 0)).ToArray();
    }

    private static byte[] Skewed(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (byte)(r.Next(10) < 7 ? 40 : 40 + r.Next(6))).ToArray();
    }

    private static float[] Sparse(int n, int oneIn, int seed)
    {
        var r = new Random(seed);
        float[] w = CodecSamples.Weights(n, r);
        for (int i = 0; i < n; i++)
        {
            if (r.Next(oneIn) != 0)
            {
                w[i] = 0;
            }
        }

        return w;
    }

    private static IEnumerable<long> Sorted(int n, int seed)
    {
        var r = new Random(seed);
        long v = 0;
        for (int i = 0; i < n; i++)
        {
            v += r.Next(1, 40);
            yield return v;
        }
    }

    private static byte[] Tiled(int bytes, int seed)
    {
        byte[] tile = CodecSamples.Noise(512, new Random(seed));
        byte[] b = new byte[bytes];
        for (int i = 0; i < bytes; i++)
        {
            b[i] = tile[i % tile.Length];
        }

        return b;
    }

    private static IEnumerable<int> Codes(int n, int levels, int seed)
    {
        var r = new Random(seed);
        for (int i = 0; i < n; i++)
        {
            yield return Math.Clamp((int)Math.Round((levels / 2.0) + (levels / 5.0 * CodecSamples.Gaussian(r))), 0, levels - 1);
        }
    }

    private static IEnumerable<float> AffineRows(int rows, int columns, int seed)
    {
        var random = new Random(seed);
        for (int r = 0; r < rows; r++)
        {
            float scale = 0.01f + (r * 0.00137f);
            for (int c = 0; c < columns; c++)
            {
                int code = Math.Clamp((int)Math.Round(2.5 * CodecSamples.Gaussian(random)), -7, 7);
                yield return code * scale;
            }
        }
    }

    private static byte[] LowZero(byte[] data, int size, int zeroBytes)
    {
        for (int i = 0; i < data.Length; i += size)
        {
            data.AsSpan(i, zeroBytes).Clear();
        }

        return data;
    }

    private static byte[] Markov(int n, int seed)
    {
        var r = new Random(seed);
        byte[] b = new byte[n];
        int s = 0;
        for (int i = 0; i < n; i++)
        {
            s = r.Next(10) < 8 ? (s + 1) % 6 : r.Next(6);
            b[i] = (byte)(s * 3);
        }

        return b;
    }

    private static byte[] Markov2(int n, int seed)
    {
        var r = new Random(seed);
        byte[] b = new byte[n];
        int s = 0;
        for (int i = 0; i < n; i++)
        {
            s = r.Next(10) < 9 ? s : 1 - s;
            b[i] = (byte)(s * 5);
        }

        return b;
    }

    private static byte[] ZeroEvery(byte[] data, int size, int every, int keepEvery = 0)
    {
        for (int i = 0, k = 0; i < data.Length; i += size, k++)
        {
            bool zero = keepEvery > 0 ? k % keepEvery != 0 : k % every == 0;
            if (zero)
            {
                data.AsSpan(i, size).Clear();
            }
        }

        return data;
    }
}
