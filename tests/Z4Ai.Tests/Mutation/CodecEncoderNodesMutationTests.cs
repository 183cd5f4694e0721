using System.Buffers.Binary;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Tests.Codecs;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// The node writers of <see cref="RecipeEncoder"/> on inputs built so that each rarely chosen node wins: the F16
/// float-fields split (sign and top mantissa bits constant, so both layouts have the same order-0 bound and the
/// fields split is kept), dead low bits narrowed to a width with no dtype of its own (F32 to 24 and 8 bits, F64 to
/// 56, 48, 40, 24, 16 and 8 bits, integers to 24 and 56 bits), C64 lanes whose narrow BF16 stream needs the doubled
/// row length for its exponent shift, integer packing to 16 and 32 bits on both sides of the nesting bound, grouped
/// palettes whose zero codes sit at different indices per group (affine groups with a negative, zero and positive
/// first code, palette groups holding 0.0 at various positions, groups without a zero), -0.0 in tensors whose
/// length is a power of two or not a multiple of eight, and rows whose exponent mode is a tie. For each, at an
/// effort where the choice is clear: the exact recipe, node length and SHA-256 of the node bytes, and the exact
/// round trip. Written against the survivors of Stryker's run on <c>RecipeEncoder.Nodes.cs</c> (70.87%).
/// </summary>
public class CodecEncoderNodesMutationTests
{
    private const CompressionEffort Fast = CompressionEffort.Fast;
    private const CompressionEffort Default = CompressionEffort.Default;
    private const CompressionEffort Max = CompressionEffort.Max;

    private static IEnumerable<TestCaseData> Cases()
    {
        yield return Case("f16fields", Fast, "fields(F16)[exponent:rans-o0 mantissa-low:stored sign+mantissa-high:rans-o0] 2696 8B639FF9A8AF01F6");
        yield return Case("f16fieldsrows", Fast, "fields(F16)[exponent:rans-o0 mantissa-low:stored sign+mantissa-high:rans-o0] 1508 246CF3FDFEC5B515");
        yield return Case("f16fieldsneg", Fast, "planes(2)[byte0:stored byte1:rans-o0] 1381 DDF19E5511E8D86D");
        yield return Case("f16dead8", Fast, "deadbits(F16->F8_E5M2)[narrow:rans-o0] 783 6BEF792EBA2AEC5F");
        yield return Case("f32dead12", Fast, "fields(F32)[exponent:rans-o0 mantissa-low:rans-o0 mantissa-mid:rans-o0 sign+mantissa-high:stored] 1852 07297D3979134EF5");
        yield return Case("f32dead20", Fast, "deadbits(F32->BF16)[narrow:fields(BF16)[exponent:rans-o0 sign+mantissa:rans-o0]] 786 4F41CCF8C80A6BA7");
        yield return Case("f32dead24", Fast, "deadbits(F32->8 bits)[narrow:rans-o0] 267 3F2DC9453E1FB5A5");
        yield return Case("f32dead8", Fast, "fields(F32)[exponent:rans-o0 mantissa-low:rans-o0 mantissa-mid:zstd sign+mantissa-high:stored] 2376 E371DA2670FB2EB4");
        yield return Case("f32dead8noise", Fast, "deadbits(F32->24 bits)[narrow:planes(3)[byte0:stored byte1:stored byte2:stored]] 3089 E3197391309BDBE0");
        yield return Case("f32dead12noise", Fast, "deadbits(F32->24 bits)[narrow:planes(3)[byte0:rans-o0 byte1:stored byte2:stored]] 2500 46A3DA8BEF2848AB");
        yield return Case("f64dead8", Fast, "deadbits(F64->56 bits)[narrow:planes(7)[byte0:stored byte1:stored byte2:stored byte3:stored byte4:stored byte5:rans-o0 byte6:rans-o0]] 3090 3D7A9DFD164602BC");
        yield return Case("f64dead16", Fast, "deadbits(F64->48 bits)[narrow:planes(6)[byte0:stored byte1:stored byte2:stored byte3:stored byte4:rans-o0 byte5:rans-o0]] 2570 814A790F4258FE12");
        yield return Case("f64dead24", Fast, "deadbits(F64->40 bits)[narrow:planes(5)[byte0:stored byte1:stored byte2:stored byte3:rans-o0 byte4:rans-o0]] 2061 1CEB1A70D0269317");
        yield return Case("f64dead40", Fast, "deadbits(F64->24 bits)[narrow:planes(3)[byte0:stored byte1:rans-o0 byte2:rans-o0]] 1032 773395DB31200337");
        yield return Case("f64dead48", Fast, "deadbits(F64->16 bits)[narrow:planes(2)[byte0:rans-o0 byte1:rans-o0]] 446 12922242A408A1E6");
        yield return Case("f64dead56", Fast, "deadbits(F64->8 bits)[narrow:rans-o0] 176 93A003F60AB65576");
        yield return Case("i32dead8", Fast, "deadbits(I32->24 bits)[narrow:planes(3)[byte0:stored byte1:stored byte2:stored]] 3089 F6A97D7F1F33FD30");
        yield return Case("i64dead8", Fast, "deadbits(I64->56 bits)[narrow:planes(7)[byte0:stored byte1:stored byte2:stored byte3:stored byte4:stored byte5:stored byte6:rans-o0]] 3250 55779566520847F2");
        yield return Case("u64dead16", Fast, "deadbits(U64->48 bits)[narrow:planes(6)[byte0:stored byte1:stored byte2:stored byte3:stored byte4:stored byte5:rans-o0]] 2604 0BD2C819688C2FB0");
        yield return Case("c64bf16rows", Fast, "deadbits(C64->BF16)[narrow:fields(BF16)[exponent:shift(256)[offsets:stored shifted:rans-o0] sign+mantissa:stored]] 1391 83B5320045FE2165");
        yield return Case("c64half", Fast, "deadbits(C64->F16)[narrow:planes(2)[byte0:stored byte1:rans-o0]] 1925 C9EA1566F9FAB27A");
        yield return Case("i32for16", Fast, "intpack(for, 16 bits)[packed:planes(2)[byte0:stored byte1:stored]] 2066 0661A00AD30E2FFE");
        yield return Case("u32for16", Fast, "intpack(for, 16 bits)[packed:planes(2)[byte0:stored byte1:stored]] 2066 335B05421B40906F");
        yield return Case("i64for32", Fast, "intpack(for, 32 bits)[packed:planes(4)[byte0:stored byte1:stored byte2:stored byte3:stored]] 2076 42A61B2C18FD4C19");
        yield return Case("u64for32", Fast, "intpack(for, 32 bits)[packed:planes(4)[byte0:stored byte1:stored byte2:stored byte3:stored]] 2076 670D0E29ED8753C3");
        yield return Case("i64delta16", Fast, "intpack(delta, 16 bits)[packed:planes(2)[byte0:stored byte1:stored]] 1052 2E47F7BA97412EF2");
        yield return Case("i64for16", Fast, "intpack(for, 16 bits)[packed:planes(2)[byte0:stored byte1:stored]] 1046 48255CE2333B8458");
        yield return Case("f32negzero256", Fast, "zstd 63 9FE9C7E0E60C2E98");
        yield return Case("f32negzero33", Fast, "zstd 36 5450D0E479664FF5");
        yield return Case("bf16negzero1001", Fast, "negzero(300 zeros)[signs:zstd values:palette(global, 6 entries, 8-bit)[codebook:stored indices:rans-o0]] 381 24A80504B467E9E6");
        yield return Case("f64negzero100", Fast, "negzero(60 zeros)[signs:stored values:palette(global, 6 entries, 8-bit)[codebook:zstd indices:rans-o0]] 108 5C515F2E512080BC");
        yield return Case("f32negnoise", Fast, "fields(F32)[exponent:rans-o0 mantissa-low:zstd mantissa-mid:stored sign+mantissa-high:zstd] 3304 7931DD5C6841C533");
        yield return Case("f16negzero", Fast, "negzero(200 zeros)[signs:stored values:palette(global, 6 entries, 8-bit)[codebook:stored indices:rans-o0]] 223 3A063156FA133E24");
        yield return Case("f32affinerows", Fast, "palette(groups of 256, 170 entries, 8-bit)[groups:zstd codebook:delta(4)[deltas:planes(4)[byte0:stored byte1:stored byte2:zstd byte3:zstd]] indices:shift(256)[offsets:zstd shifted:rans-o0]] 8723 E5210DDF570FC37E");
        yield return Case("f32mixedrows", Fast, "palette(groups of 256, 228 entries, 8-bit)[groups:zstd codebook:fields(F32)[exponent:zstd mantissa-low:stored mantissa-mid:stored sign+mantissa-high:stored] indices:shift(256)[offsets:rans-o0 shifted:zstd]] 8961 E8AF44F2DC492D3A");
        yield return Case("f32mixedrows128", Fast, "palette(groups of 128, 217 entries, 8-bit)[groups:zstd codebook:fields(F32)[exponent:zstd mantissa-low:stored mantissa-mid:stored sign+mantissa-high:stored] indices:shift(128)[offsets:zstd shifted:zstd]] 5020 7386A9AB07222A9D");
        yield return Case("f32paletterows", Fast, "palette(groups of 256, 384 entries, 8-bit)[groups:zstd codebook:zeromask(bitmap, 352 non-zero)[positions:stored values:fields(F32)[exponent:rans-o0 mantissa-low:stored mantissa-mid:stored sign+mantissa-high:stored]] indices:rans-o0] 6573 5AC24F35C81EDD8D");
        yield return Case("bf16widerows", Fast, "palette(groups of 256, f32 scales, 223 entries, 8-bit)[groups:zstd codebook:fields(BF16)[exponent:zstd sign+mantissa:stored] indices:rans-o0] 8070 BEEDEDF586F7EAF4");
        yield return Case("bf16widemixed", Fast, "palette(groups of 256, f32 scales, 270 entries, 8-bit)[groups:zstd codebook:fields(BF16)[exponent:zstd sign+mantissa:stored] indices:shift(256)[offsets:zstd shifted:rans-o0]] 8127 41EFF9D70A37448D");
        yield return Case("f32nozerorows", Fast, "palette(groups of 256, 464 entries, 8-bit)[groups:rans-o0 codebook:delta(4)[deltas:planes(4)[byte0:stored byte1:zstd byte2:zstd byte3:zstd]] indices:rans-o0] 5882 0040E39224BF790C");
        yield return Case("f32c0minus256", Fast, "palette(groups of 256, 64 entries, 8-bit)[groups:zstd codebook:delta(4)[deltas:planes(4)[byte0:zstd byte1:zstd byte2:zstd byte3:zstd]] indices:shift(256)[offsets:zstd shifted:zstd]] 8035 25689F2EB7056396");
        yield return Case("f32global16", Fast, "palette(global, 1953 entries, 16-bit)[codebook:delta(4)[deltas:planes(4)[byte0:zstd byte1:zstd byte2:zstd byte3:zstd]] indices:intpack(for, 11 bits)[packed:stored]] 12090 156E1EA4B723DF74");
        yield return Case("f32bigcodebook", Fast, "palette(global, 100 entries, 8-bit)[codebook:delta(4)[deltas:planes(4)[byte0:zstd byte1:zstd byte2:zstd byte3:zstd]] indices:zstd] 644 B2F3E4D5C99B3385");
        yield return Case("bf16modetie", Fast, "fields(BF16)[exponent:shift(256)[offsets:stored shifted:zstd] sign+mantissa:stored] 2107 1718DF01207E680C");
        yield return Case("bf16tworows", Fast, "fields(BF16)[exponent:shift(256)[offsets:stored shifted:rans-o0] sign+mantissa:stored] 710 853006E709A13A1E");
        yield return Case("bf16onerow", Fast, "fields(BF16)[exponent:rans-o0 sign+mantissa:stored] 362 9376C5482D53A6DF");
        yield return Case("f16fields", Max, "fields(F16)[exponent:cm mantissa-low:stored sign+mantissa-high:cm] 2682 EA215F682DD0AEAD");
        yield return Case("f16fieldsrows", Max, "fields(F16)[exponent:rans-rows mantissa-low:stored sign+mantissa-high:cm] 1386 F9861D41027CC629");
        yield return Case("f16fieldsneg", Max, "planes(2)[byte0:stored byte1:zstd] 1379 938F4D8B77E00516");
        yield return Case("f16dead8", Max, "deadbits(F16->F8_E5M2)[narrow:rans-o0] 783 6BEF792EBA2AEC5F");
        yield return Case("f32dead12", Max, "fields(F32)[exponent:cm mantissa-low:cm mantissa-mid:zstd sign+mantissa-high:stored] 1824 26AD9BC3F9AA5711");
        yield return Case("f32dead20", Max, "deadbits(F32->BF16)[narrow:fields(BF16)[exponent:cm sign+mantissa:zstd]] 776 D3257E8CBDC2D324");
        yield return Case("f32dead24", Max, "deadbits(F32->8 bits)[narrow:cm] 268 C18D6D5946302548");
        yield return Case("f32dead8", Max, "fields(F32)[exponent:cm mantissa-low:cm mantissa-mid:zstd sign+mantissa-high:stored] 2368 36315D528E2627C1");
        yield return Case("f32dead8noise", Max, "deadbits(F32->24 bits)[narrow:planes(3)[byte0:stored byte1:stored byte2:stored]] 3089 E3197391309BDBE0");
        yield return Case("f32dead12noise", Max, "deadbits(F32->24 bits)[narrow:planes(3)[byte0:zstd byte1:stored byte2:stored]] 2485 64CBAD35D64CFDB6");
        yield return Case("f64dead8", Max, "deadbits(F64->56 bits)[narrow:planes(7)[byte0:stored byte1:stored byte2:stored byte3:stored byte4:stored byte5:rans-o0 byte6:zstd]] 3093 5556573EB2ABE7E2");
        yield return Case("f64dead16", Max, "deadbits(F64->48 bits)[narrow:planes(6)[byte0:zstd byte1:stored byte2:stored byte3:stored byte4:rans-o0 byte5:cm]] 2565 54F75CE3964E87BB");
        yield return Case("f64dead24", Max, "deadbits(F64->40 bits)[narrow:planes(5)[byte0:zstd byte1:stored byte2:stored byte3:rans-o0 byte4:rans-o0]] 2056 38B65D88AB362413");
        yield return Case("f64dead40", Max, "deadbits(F64->24 bits)[narrow:planes(3)[byte0:zstd byte1:rans-o0 byte2:zstd]] 1027 BDF3E8D3EF60B4A0");
        yield return Case("f64dead48", Max, "deadbits(F64->16 bits)[narrow:planes(2)[byte0:rans-o0 byte1:zstd]] 448 31B1B15DAB944E6A");
        yield return Case("f64dead56", Max, "deadbits(F64->8 bits)[narrow:cm] 178 31D9AAD0515B52FC");
        yield return Case("i32dead8", Max, "deadbits(I32->24 bits)[narrow:planes(3)[byte0:stored byte1:stored byte2:stored]] 3089 F6A97D7F1F33FD30");
        yield return Case("i64dead8", Max, "deadbits(I64->56 bits)[narrow:planes(7)[byte0:stored byte1:stored byte2:stored byte3:stored byte4:stored byte5:stored byte6:cm]] 3240 BFC3424C26E95592");
        yield return Case("u64dead16", Max, "deadbits(U64->48 bits)[narrow:planes(6)[byte0:stored byte1:stored byte2:stored byte3:stored byte4:stored byte5:cm]] 2593 AB0EC7A1E3363BDA");
        yield return Case("c64bf16rows", Max, "deadbits(C64->BF16)[narrow:fields(BF16)[exponent:shift(256)[offsets:stored shifted:cm] sign+mantissa:stored]] 1391 A7412B8387B569AB");
        yield return Case("c64half", Max, "deadbits(C64->F16)[narrow:planes(2)[byte0:stored byte1:rans-o0]] 1925 C9EA1566F9FAB27A");
        yield return Case("i32for16", Max, "intpack(for, 16 bits)[packed:planes(2)[byte0:stored byte1:stored]] 2066 0661A00AD30E2FFE");
        yield return Case("u32for16", Max, "intpack(for, 16 bits)[packed:planes(2)[byte0:stored byte1:stored]] 2066 335B05421B40906F");
        yield return Case("i64for32", Max, "intpack(for, 32 bits)[packed:planes(4)[byte0:stored byte1:stored byte2:stored byte3:stored]] 2076 42A61B2C18FD4C19");
        yield return Case("u64for32", Max, "intpack(for, 32 bits)[packed:planes(4)[byte0:stored byte1:stored byte2:stored byte3:stored]] 2076 670D0E29ED8753C3");
        yield return Case("i64delta16", Max, "intpack(delta, 16 bits)[packed:planes(2)[byte0:stored byte1:stored]] 1052 2E47F7BA97412EF2");
        yield return Case("i64for16", Max, "intpack(for, 16 bits)[packed:planes(2)[byte0:stored byte1:stored]] 1046 48255CE2333B8458");
        yield return Case("f32negzero256", Max, "zstd 64 3955A52B60798D8E");
        yield return Case("f32negzero33", Max, "zstd 34 55F15EFF06893F2F");
        yield return Case("bf16negzero1001", Max, "negzero(300 zeros)[signs:zstd values:palette(global, 6 entries, 8-bit)[codebook:stored indices:cm]] 382 CCBED43DDD96EAC5");
        yield return Case("f64negzero100", Max, "negzero(60 zeros)[signs:stored values:palette(global, 6 entries, 8-bit)[codebook:zstd indices:cm]] 100 E6267573FCC4BE4C");
        yield return Case("f32negnoise", Max, "fields(F32)[exponent:cm mantissa-low:zstd mantissa-mid:zstd sign+mantissa-high:zstd] 3287 29614AB0483E7481");
        yield return Case("f16negzero", Max, "negzero(200 zeros)[signs:stored values:palette(global, 6 entries, 8-bit)[codebook:stored indices:cm]] 223 DD211BB8D7730B5A");
        yield return Case("f32global16", Max, "palette(global, 1953 entries, 16-bit)[codebook:delta(4)[deltas:planes(4)[byte0:zstd byte1:zstd byte2:cm byte3:cm]] indices:planes(2)[byte0:stored byte1:cm]] 11868 D15DC28AC13EAB03");
        yield return Case("f32bigcodebook", Max, "palette(global, 100 entries, 8-bit)[codebook:delta(4)[deltas:planes(4)[byte0:cm byte1:zstd byte2:cm byte3:cm]] indices:zstd] 495 C27C7BA254DAE3F3");
        yield return Case("bf16modetie", Max, "fields(BF16)[exponent:shift(256)[offsets:stored shifted:zstd] sign+mantissa:stored] 2105 6744B6318DDEEA93");
        yield return Case("bf16tworows", Max, "fields(BF16)[exponent:shift(256)[offsets:stored shifted:cm] sign+mantissa:stored] 707 2C79E86A49DCF2D4");
        yield return Case("bf16onerow", Max, "fields(BF16)[exponent:cm sign+mantissa:stored] 356 E04ECDA295AE1894");
        yield return Case("f32codesrows", Fast, "palette(global, 8 entries, 8-bit)[codebook:stored indices:zstd] 632 81D6415E6AF84BDE");
        yield return Case("f32codesrows", Max, "palette(global, 8 entries, 8-bit)[codebook:stored indices:cm] 331 781FD3B24EF15C7E");
        yield return Case("bf16negzero964", Fast, "negzero(100 zeros)[signs:stored values:palette(global, 6 entries, 8-bit)[codebook:stored indices:rans-o0]] 371 8DBB3437C84F93F5");
        yield return Case("bf16negzero964", Max, "negzero(100 zeros)[signs:stored values:palette(global, 6 entries, 8-bit)[codebook:stored indices:cm]] 372 732C97BD3F751B5A");
        yield return Case("f32affinerows", Default, "palette(groups of 256, 170 entries, 8-bit)[groups:zstd codebook:delta(4)[deltas:planes(4)[byte0:stored byte1:zstd byte2:zstd byte3:zstd]] indices:shift(256)[offsets:zstd shifted:rans-rows]] 6927 1A59DD5666D664C8");
        yield return Case("f32mixedrows128", Default, "palette(groups of 128, 217 entries, 8-bit)[groups:zstd codebook:fields(F32)[exponent:zstd mantissa-low:stored mantissa-mid:stored sign+mantissa-high:stored] indices:shift(128)[offsets:zstd shifted:rans-rows]] 4038 A36C8A87074BEBE2");
    }

    private static TestCaseData Case(string input, CompressionEffort effort, string expected) =>
        new TestCaseData(input, effort, expected).SetArgDisplayNames(input, effort.ToString());

    /// <summary>The inputs: dtype, row length and bytes.</summary>
    private static (DType DType, int Row, byte[] Data) Input(string name) => name switch
    {
        "f16fields" => (DType.F16, 0, F16Fields(2048, rows: 1, 256, sign: false, 1)),
        "f16fieldsrows" => (DType.F16, 256, F16Fields(1024, rows: 4, 256, sign: false, 2)),
        "f16fieldsneg" => (DType.F16, 256, F16Fields(1024, rows: 1, 256, sign: true, 3)),
        "f16dead8" => (DType.F16, 0, LowZero(CodecSamples.F16(CodecSamples.Weights(1024, new Random(4))), 2, 1)),
        "f32dead12" => (DType.F32, 0, F32Dead(1024, 12, 5)),
        "f32dead20" => (DType.F32, 0, F32Dead(1024, 20, 6)),
        "f32dead24" => (DType.F32, 0, F32Dead(1024, 24, 7)),
        "f32dead8" => (DType.F32, 256, F32Dead(1024, 8, 8)),
        "f32dead8noise" => (DType.F32, 0, LowZero(CodecSamples.Noise(4096, new Random(44)), 4, 1)),
        "f32dead12noise" => (DType.F32, 0, F32NoiseDead12(1024, 45)),
        "f64dead8" => (DType.F64, 0, F64Dead(512, 8, 9)),
        "f64dead16" => (DType.F64, 256, F64Dead(512, 16, 10)),
        "f64dead24" => (DType.F64, 0, F64Dead(512, 24, 11)),
        "f64dead40" => (DType.F64, 0, F64Dead(512, 40, 12)),
        "f64dead48" => (DType.F64, 0, F64Dead(512, 48, 13)),
        "f64dead56" => (DType.F64, 0, F64Dead(512, 56, 14)),
        "i32dead8" => (DType.I32, 0, CodecSamples.Integers(RandomLongs(1024, 1L << 28, 15).Select(v => v << 8), 4)),
        "i64dead8" => (DType.I64, 0, CodecSamples.Integers(RandomLongs(512, 1L << 50, 16).Select(v => v << 8), 8)),
        "u64dead16" => (DType.U64, 0, CodecSamples.Integers(RandomLongs(512, 1L << 40, 17).Select(v => v << 16), 8)),
        "c64bf16rows" => (DType.C64, 128, CodecSamples.F32(CodecSamples.ThroughBf16(OctaveRows(1024, 256, 18)))),
        "c64half" => (DType.C64, 128, CodecSamples.F32(CodecSamples.ThroughHalf(OctaveRows(1024, 256, 19)))),
        "i32for16" => (DType.I32, 0, CodecSamples.Integers(RandomLongs(1024, 1L << 16, 20).Select(v => 0x12345678L + v), 4)),
        "u32for16" => (DType.U32, 0, CodecSamples.Integers(RandomLongs(1024, 1L << 16, 21).Select(v => 0x9234_5678L + v), 4)),
        "i64for32" => (DType.I64, 0, CodecSamples.Integers(RandomLongs(512, 1L << 32, 22).Select(v => 0x1234_5678_9AL + v), 8)),
        "u64for32" => (DType.U64, 0, CodecSamples.Integers(RandomLongs(512, 1L << 32, 23).Select(v => unchecked((long)0xF234_5678_9A00_0000UL) + v), 8)),
        "i64delta16" => (DType.I64, 0, CodecSamples.Integers(Rising(512, 1 << 16, 24), 8)),
        "i64for16" => (DType.I64, 0, CodecSamples.Integers(RandomLongs(512, 1L << 16, 25).Select(v => -0x1234_5678_9AL + v), 8)),
        "f32negzero256" => (DType.F32, 0, NegativeZeros(256, 250, 26, DType.F32)),
        "f32negzero33" => (DType.F32, 0, NegativeZeros(33, 30, 27, DType.F32)),
        "bf16negzero1001" => (DType.BF16, 0, NegativeZeros(1001, 300, 28, DType.BF16)),
        "bf16negzero964" => (DType.BF16, 0, NegativeZeros(964, 100, 47, DType.BF16)),
        "f32codesrows" => (DType.F32, 64, CodecSamples.F32(Enumerable.Range(0, 4096).Select(i => (float)((Math.Round(2 * Math.Sin(i * 0.05) + (i % 64 / 16)) + 0.0) * 0.1)).ToArray())),
        "f64negzero100" => (DType.F64, 0, NegativeZeros(100, 60, 29, DType.F64)),
        "f32negnoise" => (DType.F32, 0, NegativeNoise(1024, 30)),
        "f16negzero" => (DType.F16, 0, NegativeZeros(512, 200, 31, DType.F16)),
        "f32affinerows" => (DType.F32, 256, CodeRows(64, 256, 32, RowKinds.Affine)),
        "f32mixedrows" => (DType.F32, 256, CodeRows(64, 256, 33, RowKinds.Mixed)),
        "f32mixedrows128" => (DType.F32, 128, CodeRows(64, 128, 46, RowKinds.Mixed)),
        "f32paletterows" => (DType.F32, 256, CodeRows(64, 256, 34, RowKinds.Palette)),
        "bf16widerows" => (DType.BF16, 256, CodeRowsBf16(64, 256, 35, mixed: false)),
        "bf16widemixed" => (DType.BF16, 256, CodeRowsBf16(64, 256, 36, mixed: true)),
        "f32nozerorows" => (DType.F32, 256, CodeRows(64, 256, 37, RowKinds.NoZero)),
        "f32c0minus256" => (DType.F32, 256, CodeRows(64, 256, 38, RowKinds.Minus256)),
        "f32global16" => (DType.F32, 256, Global16(8192, 39)),
        "f32bigcodebook" => (DType.F32, 0, CodecSamples.F32(Enumerable.Range(0, 4096).Select(i => (1 + new Random(40 + i).Next(100)) * 0.01f).ToArray())),
        "bf16modetie" => (DType.BF16, 256, ModeTie(2048, 41)),
        "bf16tworows" => (DType.BF16, 256, CodecSamples.Bf16(OctaveRows(512, 256, 42))),
        "bf16onerow" => (DType.BF16, 256, CodecSamples.Bf16(OctaveRows(256, 256, 43))),
        _ => throw new ArgumentException(name, nameof(name)),
    };

    [TestCaseSource(nameof(Cases))]
    public void EncodeTyped_Input_GivesPinnedRecipeLengthAndBytes(string input, CompressionEffort effort, string expected)
    {
        (DType dtype, int row, byte[] data) = Input(input);
        string actual = CodecEncoderChoiceMutationTests.Encode(data, dtype, row, 0, effort);
        TestContext.Out.WriteLine($"ACTUAL\t{input}|{effort}\t{actual}");
        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public void EncodeTyped_IntPackNearTheNestingLimit_PacksIntoPlanesOnlyWithRoomForThem()
    {
        // The 16-bit packed stream becomes byte planes while depth + 1 < MaxDepth - 2 (their leaves then sit at most
        // at MaxDepth - 1); one level deeper it is a single symbol leaf.
        (DType dtype, _, byte[] data) = Input("i32for16");
        Assert.That(RecipeDecoder.MaxDepth, Is.EqualTo(8));
        Assert.That(CodecEncoderChoiceMutationTests.Encode(data, dtype, 0, 4, Fast), Is.EqualTo("intpack(for, 16 bits)[packed:planes(2)[byte0:stored byte1:stored]] 2066 0661A00AD30E2FFE"));
        Assert.That(CodecEncoderChoiceMutationTests.Encode(data, dtype, 0, 5, Fast), Does.StartWith("intpack(for, 16 bits)[packed:stored] "));
        (DType wide, _, byte[] longs) = Input("i64for32");
        Assert.That(CodecEncoderChoiceMutationTests.Encode(longs, wide, 0, 4, Fast), Does.StartWith("intpack(for, 32 bits)[packed:planes(4)["));
        Assert.That(CodecEncoderChoiceMutationTests.Encode(longs, wide, 0, 5, Fast), Does.StartWith("intpack(for, 32 bits)[packed:stored] "));
    }

    [Test]
    public void EncodeTyped_PaletteCodebookNearTheNestingLimit_TriesDeltasOnlyWithRoomForThem()
    {
        // A codebook of 100 rising F32 values codes smaller as zigzag deltas; the delta form (two more levels) is
        // tried only while depth + 2 < MaxDepth - 2.
        (DType dtype, _, byte[] data) = Input("f32bigcodebook");
        Assert.That(CodecEncoderChoiceMutationTests.Encode(data, dtype, 0, 3, Fast), Does.StartWith("palette(global, 100 entries, 8-bit)[codebook:delta(4)[deltas:planes(4)["));
        string deeper = CodecEncoderChoiceMutationTests.Encode(data, dtype, 0, 4, Fast);
        Assert.That(deeper, Does.StartWith("palette(global, 100 entries, 8-bit)[codebook:"));
        Assert.That(deeper, Does.Not.Contain("delta"));
    }

    private static byte[] LowZero(byte[] data, int size, int zeroBytes)
    {
        for (int i = 0; i < data.Length; i += size)
        {
            data.AsSpan(i, zeroBytes).Clear();
        }

        return data;
    }

    private static IEnumerable<long> RandomLongs(int n, long range, int seed)
    {
        var r = new Random(seed);
        for (int i = 0; i < n; i++)
        {
            yield return r.NextInt64(range);
        }
    }

    private static IEnumerable<long> Rising(int n, int maxStep, int seed)
    {
        var r = new Random(seed);
        long v = 0x10_0000_0000L;
        for (int i = 0; i < n; i++)
        {
            v += r.Next(maxStep);
            yield return v;
        }
    }

    /// <summary>
    /// F16 bit patterns with the top two mantissa bits zero and the sign constant (or, with <paramref name="sign"/>,
    /// negative exactly when the exponent is odd), a random low mantissa byte, and the exponent near 15 moved by two
    /// octaves per row.
    /// </summary>
    private static byte[] F16Fields(int n, int rows, int row, bool sign, int seed)
    {
        var r = new Random(seed);
        byte[] bytes = new byte[n * 2];
        for (int i = 0; i < n; i++)
        {
            int band = rows > 1 ? (i / row) % rows : 0;
            int exponent = Math.Clamp(12 + (2 * band) + (int)Math.Round(1.2 * CodecSamples.Gaussian(r)), 1, 30);
            int bits = (exponent << 10) | r.Next(256);
            if (sign && exponent % 2 == 1)
            {
                bits |= 0x8000;
            }

            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), (ushort)bits);
        }

        return bytes;
    }

    /// <summary>F32 values around 1e6 (outside F16's range) whose low <paramref name="dead"/> bits are zero.</summary>
    private static byte[] F32Dead(int n, int dead, int seed)
    {
        var r = new Random(seed);
        byte[] bytes = new byte[n * 4];
        uint mask = ~((1u << dead) - 1);
        for (int i = 0; i < n; i++)
        {
            float v = (float)(1e6 * CodecSamples.Gaussian(r));
            uint bits = BitConverter.SingleToUInt32Bits(v) & mask;
            bits |= 1u << dead;
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4 * i), bits);
        }

        return bytes;
    }

    /// <summary>Random F32 bit patterns whose low 12 bits are zero and whose bit 12 is set.</summary>
    private static byte[] F32NoiseDead12(int n, int seed)
    {
        byte[] bytes = CodecSamples.Noise(n * 4, new Random(seed));
        for (int i = 0; i < bytes.Length; i += 4)
        {
            uint bits = (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i)) & ~0xFFFu) | 0x1000u;
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i), bits);
        }

        return bytes;
    }

    /// <summary>F64 values near 2^200 (outside F32's range) whose low <paramref name="dead"/> bits are zero.</summary>
    private static byte[] F64Dead(int n, int dead, int seed)
    {
        var r = new Random(seed);
        byte[] bytes = new byte[n * 8];
        ulong mask = ~((1UL << dead) - 1);
        for (int i = 0; i < n; i++)
        {
            ulong sign = (ulong)r.Next(2) << 63;
            ulong exponent = (ulong)(1023 + 208 + (16 * (int)Math.Round(0.8 * CodecSamples.Gaussian(r))));
            ulong mantissa = (ulong)r.NextInt64() & ((1UL << 52) - 1);
            ulong bits = (sign | (exponent << 52) | mantissa) & mask;
            bits |= 1UL << dead;
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8 * i), bits);
        }

        return bytes;
    }

    /// <summary>Gaussian weights whose rows of <paramref name="row"/> elements are scaled by 1, 4, 16, 64 in turn.</summary>
    private static float[] OctaveRows(int n, int row, int seed)
    {
        var r = new Random(seed);
        float[] w = new float[n];
        for (int i = 0; i < n; i++)
        {
            w[i] = (float)(0.01 * (1 << (2 * ((i / row) % 4))) * CodecSamples.Gaussian(r));
        }

        return w;
    }

    /// <summary>Values from a small set with one in ten equal to +0.0, then the given count of those zeros (and of
    /// the others) turned to -0.0, the first and the last element among them.</summary>
    private static byte[] NegativeZeros(int n, int negative, int seed, DType dtype)
    {
        var r = new Random(seed);
        double[] set = [0.1, -0.3, 0.7, 1.3, -2.9];
        double[] v = new double[n];
        for (int i = 0; i < n; i++)
        {
            v[i] = set[r.Next(set.Length)];
        }

        int[] order = Enumerable.Range(1, n - 2).OrderBy(_ => r.Next()).ToArray();
        v[0] = -0.0;
        v[n - 1] = -0.0;
        for (int k = 0; k < negative - 2; k++)
        {
            v[order[k]] = -0.0;
        }

        float[] single = v.Select(x => (float)x).ToArray();
        return dtype switch
        {
            DType.BF16 => CodecSamples.Bf16(single),
            DType.F16 => CodecSamples.F16(single),
            DType.F64 => v.SelectMany(BitConverter.GetBytes).ToArray(),
            _ => CodecSamples.F32(single),
        };
    }

    private static byte[] NegativeNoise(int n, int seed)
    {
        var r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++)
        {
            v[i] = r.Next(8) == 0 ? -0f : (float)r.NextDouble();
        }

        return CodecSamples.F32(v);
    }

    private enum RowKinds
    {
        Affine,
        Mixed,
        Palette,
        NoZero,
        Minus256,
    }

    /// <summary>
    /// F32 rows of integer codes times a row scale. Affine: the codes of row r lie in a range whose low end cycles
    /// through -127, -40, 0, -3 and 5 (so the zero code sits at index 127, 40, 0, 3, or nowhere); Palette: each row
    /// draws from its own six random values, 0.0 among them in rows 0-3, 8-11, ... at a position that varies; Mixed: a
    /// palette row after every three affine rows; NoZero: every row's codes start at 1 or above; Minus256: rows whose codes are -256..-1
    /// between affine rows with a zero code.
    /// </summary>
    private static byte[] CodeRows(int rows, int columns, int seed, RowKinds kind)
    {
        var r = new Random(seed);
        float[] v = new float[rows * columns];
        int[] lows = [-127, -40, 0, -3, 5];
        for (int row = 0; row < rows; row++)
        {
            float scale = (float)(0.001 * (1 + (0.37 * row)));
            bool palette = kind == RowKinds.Palette || (kind == RowKinds.Mixed && row % 4 == 1);
            if (palette)
            {
                float[] set = Enumerable.Range(0, 6).Select(_ => (float)(r.NextDouble() - 0.5)).ToArray();
                if (row / 4 % 2 == 0)
                {
                    set[r.Next(6)] = 0f;
                }

                for (int c = 0; c < columns; c++)
                {
                    v[(row * columns) + c] = set[Math.Min(5, (int)Math.Abs(2 * CodecSamples.Gaussian(r)))];
                }

                continue;
            }

            int low = kind switch
            {
                RowKinds.NoZero => 1 + (row % 7),
                RowKinds.Minus256 => row % 2 == 0 ? -256 : lows[row / 2 % 4],
                _ => lows[row % lows.Length],
            };
            int high = low + (kind == RowKinds.Minus256 && low == -256 ? 255 : 200);
            int peak = Math.Clamp(0, low, high);
            for (int c = 0; c < columns; c++)
            {
                int code = c == 0 ? low : c == 1 ? high : Math.Clamp(peak + (int)Math.Round(3 * CodecSamples.Gaussian(r)), low, high);
                v[(row * columns) + c] = code * scale;
            }
        }

        return CodecSamples.F32(v);
    }

    /// <summary>BF16 rows of integer codes times an F32 row scale (rounded to BF16), the low code cycling as in
    /// <see cref="CodeRows"/>; with <paramref name="mixed"/> every third row holds six random values instead.</summary>
    private static byte[] CodeRowsBf16(int rows, int columns, int seed, bool mixed)
    {
        var r = new Random(seed);
        float[] v = new float[rows * columns];
        int[] lows = [-127, -40, 0, -3, 5];
        for (int row = 0; row < rows; row++)
        {
            float scale = (float)(0.02 * Math.Exp(r.NextDouble() - 0.5) / 127);
            if (mixed && row % 3 == 1)
            {
                float[] set = Enumerable.Range(0, 6).Select(_ => (float)(r.NextDouble() - 0.5)).ToArray();
                set[row % 6] = 0f;
                for (int c = 0; c < columns; c++)
                {
                    v[(row * columns) + c] = set[Math.Min(5, (int)Math.Abs(2 * CodecSamples.Gaussian(r)))];
                }

                continue;
            }

            int low = lows[row % lows.Length];
            int high = low + 127;
            int peak = Math.Clamp(0, low, high);
            for (int c = 0; c < columns; c++)
            {
                int code = c == 0 ? low : c == 1 ? high : Math.Clamp(peak + (int)Math.Round(3 * CodecSamples.Gaussian(r)), low, high);
                v[(row * columns) + c] = code * scale;
            }
        }

        return CodecSamples.Bf16(v);
    }

    /// <summary>F32 with 32 distinct values in the first 128 elements and about 2000 after them (a 16-bit global palette).</summary>
    private static byte[] Global16(int n, int seed)
    {
        var r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++)
        {
            int code = i < 128 ? r.Next(32) : r.Next(2000);
            v[i] = (code - 1000) * 0.013f;
        }

        return CodecSamples.F32(v);
    }

    /// <summary>BF16 rows in which two exponents occur equally often (and most often), the pair moving by an
    /// octave per row.</summary>
    private static byte[] ModeTie(int n, int seed)
    {
        var r = new Random(seed);
        byte[] bytes = new byte[n * 2];
        for (int i = 0; i < n; i++)
        {
            int row = i / 256;
            int exponent = 110 + (2 * (row % 4)) + (i % 2) + (i % 16 >= 14 ? 5 + (i % 3) : 0);
            int bits = (exponent << 7) | r.Next(128) | (r.Next(2) << 15);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), (ushort)bits);
        }

        return bytes;
    }
}
