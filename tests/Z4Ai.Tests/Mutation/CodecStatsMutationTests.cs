using System.Buffers;
using System.Buffers.Binary;
using NUnit.Framework;
using Z4Ai.Codecs;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// The encoder's statistics and settings and the reporting around the codec, with exact values: order-0 costs at
/// powers of two (where the fixed-point logarithm is exact), distinct counts with their cap, the effort profiles and
/// their boundaries, the field entropies and the per-chunk inspection totals, the archive leaf's thresholds.
/// Written against Stryker's surviving mutants in <c>StreamStats</c>, <c>EffortProfile</c>, <c>FieldHistogram</c>,
/// <c>FrameInspection</c> and <c>ArchiveStreams</c>.
/// </summary>
public class CodecStatsMutationTests
{
    [Test]
    public void StreamStatsOrder0CostQ16_PowersOfTwo_AreExact()
    {
        Assert.That(StreamStats.Order0CostQ16([]), Is.Zero);
        Assert.That(StreamStats.Order0CostQ16([0, 0, 0]), Is.Zero);
        Assert.That(StreamStats.Order0CostQ16([5]), Is.Zero, "one symbol costs nothing");
        Assert.That(StreamStats.Order0CostQ16([1, 1]), Is.EqualTo(2 * 65536));
        Assert.That(StreamStats.Order0CostQ16([1, 0, 1]), Is.EqualTo(2 * 65536), "empty bins are skipped");

        // 2 x log2(4/2) + 1 x log2(4/1) + 1 x log2(4/1) = 2 + 2 + 2 bits.
        Assert.That(StreamStats.Order0CostQ16([2, 1, 1]), Is.EqualTo(6 * 65536));

        // 8 symbols: 4 x 1 bit + 2 x 2 bits + 2 x 3 bits... with counts 4, 2, 1, 1: 4 + 4 + 3 + 3 = 14 bits.
        Assert.That(StreamStats.Order0CostQ16([4, 2, 1, 1]), Is.EqualTo(14 * 65536));
    }

    [Test]
    public void StreamStatsOrder0CostQ16_LargeCounts_DoNotOverflow()
    {
        // 2^31 + 2^31 symbols: 2^32 bits of cost, more than an int holds.
        Assert.That(StreamStats.Order0CostQ16([1u << 31, 1u << 31]), Is.EqualTo((1L << 32) * 65536));
    }

    [Test]
    public void StreamStatsCountDistinct_Bytes_CountsAndStopsAtTheCap()
    {
        byte[] data = [1, 1, 2, 3, 0, 64, 128, 192, 255, 63];
        Assert.That(StreamStats.CountDistinct(data, 1, 100), Is.EqualTo(9));
        Assert.That(StreamStats.CountDistinct(data, 1, 2), Is.EqualTo(2));
        Assert.That(StreamStats.CountDistinct(data, 1, 3), Is.EqualTo(3));
        Assert.That(StreamStats.CountDistinct([7, 7, 7], 1, 1), Is.EqualTo(1));
        Assert.That(StreamStats.CountDistinct([], 1, 5), Is.Zero);
    }

    [Test]
    public void StreamStatsCountDistinct_Words_ReadLittleEndianPairs()
    {
        // 5, 261 (0x0105), 5, 65535, 256: four distinct words; a wrong byte order or shift merges some.
        byte[] data = [5, 0, 5, 1, 5, 0, 255, 255, 0, 1, 9];
        Assert.That(StreamStats.CountDistinct(data, 2, 100), Is.EqualTo(4), "the odd trailing byte is no element");
        Assert.That(StreamStats.CountDistinct(data, 2, 3), Is.EqualTo(3));
        Assert.That(StreamStats.CountDistinct([0, 1, 1, 0], 2, 100), Is.EqualTo(2));
    }

    [TestCase(4)]
    [TestCase(8)]
    public void StreamStatsCountDistinct_WideElements_UseEveryByte(int size)
    {
        // Elements with a single 1 in byte 0, byte size-1 and byte size/2, then a repeat of the first.
        byte[] data = new byte[size * 4];
        data[0] = 1;
        data[size + size - 1] = 1;
        data[(2 * size) + (size / 2)] = 1;
        data[3 * size] = 1;
        Assert.That(StreamStats.CountDistinct(data, size, 100), Is.EqualTo(3));
        Assert.That(StreamStats.CountDistinct(data, size, 2), Is.EqualTo(2));
        Assert.That(StreamStats.CountDistinct(data.AsSpan(0, (size * 2) - 1), size, 100), Is.EqualTo(1), "a partial element is not counted");
    }

    private static byte[] F32(params float[] values)
    {
        byte[] bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }

    [Test]
    public void StreamStatsIsAffineSample_CodesTimesOneScale_OnlyWithThreeValues()
    {
        Assert.That(StreamStats.IsAffineSample(F32(0.25f, 0.5f, 0.75f, 0.25f, -0.5f), DType.F32), Is.True);
        Assert.That(StreamStats.IsAffineSample(F32(0.25f, 0.5f, 0.25f), DType.F32), Is.False, "two values are too few");
        Assert.That(StreamStats.IsAffineSample(F32(0.1f, 0.37f, 0.5f, 0.911f), DType.F32), Is.False);
        Assert.That(StreamStats.IsAffineSample([1, 2, 3, 4, 5, 6], DType.U8), Is.False, "integers are no floats");
    }

    [Test]
    public void EffortProfileFor_EachEffort_HasItsSettings()
    {
        EffortProfile fast = EffortProfile.For(CompressionEffort.Fast);
        Assert.That(
            (fast.Effort, fast.ZstdLevel, fast.SmallStreamZstdLevel, fast.EntropyGainPercent, fast.AllowOrder1, fast.ContextMixingLimit, fast.TrustTransforms, fast.AllowZstd, fast.AlwaysZstd, fast.TryArchiveModel),
            Is.EqualTo((CompressionEffort.Fast, 1, 3, 3, false, 0, true, true, false, false)));

        EffortProfile standard = EffortProfile.For(CompressionEffort.Default);
        Assert.That(
            (standard.Effort, standard.ZstdLevel, standard.SmallStreamZstdLevel, standard.EntropyGainPercent, standard.AllowOrder1, standard.Order1GainPercent, standard.ContextMixingLimit, standard.ContextMixingMinimum, standard.ContextMixingGainPercent, standard.TrustTransforms),
            Is.EqualTo((CompressionEffort.Default, 3, 19, 1, true, 3, 65536, 4096, 3, true)));
        Assert.That((standard.AllowZstd, standard.AlwaysZstd, standard.TryArchiveModel), Is.EqualTo((true, false, false)));

        EffortProfile max = EffortProfile.For(CompressionEffort.Max);
        Assert.That(
            (max.Effort, max.ZstdLevel, max.SmallStreamZstdLevel, max.EntropyGainPercent, max.AllowOrder1, max.Order1GainPercent, max.ContextMixingLimit, max.ContextMixingMinimum, max.ContextMixingGainPercent, max.TrustTransforms),
            Is.EqualTo((CompressionEffort.Max, 19, 19, 0, true, 0, int.MaxValue, 0, 0, false)));
        Assert.That((max.AllowZstd, max.AlwaysZstd, max.TryArchiveModel), Is.EqualTo((true, true, false)));

        EffortProfile archive = EffortProfile.For(CompressionEffort.Archive);
        Assert.That(archive, Is.Not.SameAs(max));
        Assert.That(
            (archive.Effort, archive.ZstdLevel, archive.AllowOrder1, archive.ContextMixingLimit, archive.TrustTransforms, archive.AlwaysZstd, archive.TryArchiveModel),
            Is.EqualTo((CompressionEffort.Archive, 19, true, int.MaxValue, false, true, true)));
        Assert.That(EffortProfile.For(CompressionEffort.Max).Effort, Is.EqualTo(CompressionEffort.Max), "deriving Archive leaves Max alone");
        Assert.That(EffortProfile.For((CompressionEffort)99), Is.SameAs(standard), "anything else is Default");
    }

    [Test]
    public void EffortProfileZstdLevelFor_OneMebibyteIsStillSmall()
    {
        EffortProfile standard = EffortProfile.For(CompressionEffort.Default);
        Assert.That(standard.ZstdLevelFor(0), Is.EqualTo(19));
        Assert.That(standard.ZstdLevelFor(1024 * 1024), Is.EqualTo(19));
        Assert.That(standard.ZstdLevelFor((1024 * 1024) + 1), Is.EqualTo(3));
        Assert.That(EffortProfile.For(CompressionEffort.Fast).ZstdLevelFor((1024 * 1024) + 1), Is.EqualTo(1));
    }

    [Test]
    public void EffortProfileUseContextMixing_BothBoundsAreInclusive()
    {
        EffortProfile standard = EffortProfile.For(CompressionEffort.Default);
        Assert.That(standard.UseContextMixing(4095), Is.False);
        Assert.That(standard.UseContextMixing(4096), Is.True);
        Assert.That(standard.UseContextMixing(65536), Is.True);
        Assert.That(standard.UseContextMixing(65537), Is.False);
        Assert.That(EffortProfile.For(CompressionEffort.Fast).UseContextMixing(1), Is.False);
        Assert.That(EffortProfile.For(CompressionEffort.Max).UseContextMixing(1), Is.True);
        Assert.That(EffortProfile.For(CompressionEffort.Max).UseContextMixing(int.MaxValue), Is.True);
    }

    private static byte[] Words(params ushort[] values)
    {
        byte[] bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), values[i]);
        }

        return bytes;
    }

    private static byte[] Dwords(params uint[] values)
    {
        byte[] bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }

    private static (double Sign, double Exponent, double Mantissa) Fields(DType dtype, params byte[][] parts)
    {
        var histogram = new FieldHistogram(dtype);
        foreach (byte[] part in parts)
        {
            histogram.Add(part);
        }

        return (histogram.SignBits, histogram.ExponentBits, histogram.MantissaBits);
    }

    [Test]
    public void FieldHistogram_Bf16_SplitsSignExponentMantissa()
    {
        Assert.That(Fields(DType.BF16, Words(0x0000, 0x8000)), Is.EqualTo((1.0, 0.0, 0.0)));
        Assert.That(Fields(DType.BF16, Words(0x3F80, 0x4000)), Is.EqualTo((0.0, 1.0, 0.0)));
        Assert.That(Fields(DType.BF16, Words(0x3F81, 0x3F82, 0x3F83, 0x3FFF)), Is.EqualTo((0.0, 0.0, 2.0)));

        // Two chunks count as one stream; the odd byte at the end of a chunk is no element.
        Assert.That(Fields(DType.BF16, [.. Words(0x3F80), 0x55], Words(0xBF80)), Is.EqualTo((1.0, 0.0, 0.0)));
    }

    [Test]
    public void FieldHistogram_F16_UsesFiveExponentAndTenMantissaBits()
    {
        Assert.That(Fields(DType.F16, Words(0x3C00, 0xBC00)), Is.EqualTo((1.0, 0.0, 0.0)));
        Assert.That(Fields(DType.F16, Words(0x3C00, 0x4000)), Is.EqualTo((0.0, 1.0, 0.0)));
        Assert.That(Fields(DType.F16, Words(0x3C00, 0x3E00)), Is.EqualTo((0.0, 0.0, 1.0)), "the top mantissa bit");
        Assert.That(Fields(DType.F16, Words(0x3C00, 0x3C01)), Is.EqualTo((0.0, 0.0, 1.0)), "the bottom mantissa bit");
    }

    [Test]
    public void FieldHistogram_F32_SumsTheThreeMantissaBytes()
    {
        Assert.That(Fields(DType.F32, Dwords(0x3F800000, 0xBF800000)), Is.EqualTo((1.0, 0.0, 0.0)));
        Assert.That(Fields(DType.F32, Dwords(0x3F800000, 0x40000000)), Is.EqualTo((0.0, 1.0, 0.0)));
        Assert.That(Fields(DType.F32, Dwords(0x3F800000, 0x3F800001, 0x3F810000, 0x3F810001)), Is.EqualTo((0.0, 0.0, 2.0)));
        Assert.That(Fields(DType.F32, Dwords(0x3F800000, 0x3F800100)), Is.EqualTo((0.0, 0.0, 1.0)), "the middle byte");
        Assert.That(Fields(DType.F32, Dwords(0x3F800000, 0x3FC00000)), Is.EqualTo((0.0, 0.0, 1.0)), "the top mantissa bit");
        Assert.That(Fields(DType.F32, [.. Dwords(0x3F800000), 1, 2, 3], Dwords(0xBF800000)), Is.EqualTo((1.0, 0.0, 0.0)));
    }

    [Test]
    public void FieldHistogram_NothingAdded_IsZeroAndOnlyFloatsAreSupported()
    {
        Assert.That(Fields(DType.F32), Is.EqualTo((0.0, 0.0, 0.0)));
        Assert.That(Fields(DType.BF16, []), Is.EqualTo((0.0, 0.0, 0.0)));
        Assert.That(new[] { DType.BF16, DType.F16, DType.F32 }.All(FieldHistogram.IsSupported), Is.True);
        Assert.That(new[] { DType.F64, DType.U8, DType.I16, DType.F8_E4M3 }.Any(FieldHistogram.IsSupported), Is.False);
    }

    [Test]
    public void Inspect_ThreeChunksOfOneRecipe_CountsChunksAndSumsStreams()
    {
        // Three 4 KiB chunks of the same BF16 pattern: one recipe seen three times, each stream in three chunks.
        ushort[] pattern = [.. Enumerable.Range(0, 2048).Select(i => (ushort)(0x3F00 + (i * 37 % 256)))];
        byte[] chunk = Words(pattern);
        byte[] raw = [.. chunk, .. chunk, .. chunk];
        byte[] frame = Z4AiCodec.Compress(raw, DType.BF16, new CodecOptions { ChunkSize = 4096, Effort = CompressionEffort.Fast, Shape = [3, 2048] });
        CodecFrameInfo info = Z4AiCodec.Inspect(frame);
        Assert.That(info.ChunkCount, Is.EqualTo(3));
        Assert.That(info.ChunkSize, Is.EqualTo(4096));
        Assert.That(info.Shape, Is.EqualTo(new long[] { 3, 2048 }));
        Assert.That(info.Recipes, Has.Count.EqualTo(1));
        Assert.That(info.Recipes[0].Value, Is.EqualTo(3));
        Assert.That(info.Streams, Is.Not.Empty);
        Assert.That(info.Streams.Select(s => s.Path).Distinct().Count(), Is.EqualTo(info.Streams.Count), "one line per stream path and coder");
        foreach (CodecStreamInfo s in info.Streams)
        {
            Assert.That(s.Chunks, Is.EqualTo(3), s.Path);
            Assert.That(s.RawBytes % 3, Is.Zero, s.Path);
            Assert.That(s.EncodedBytes % 3, Is.Zero, s.Path);
            Assert.That(s.BitsPerElement, Is.EqualTo(s.EncodedBytes * 8.0 / 6144).Within(1e-9), s.Path);
        }

        // One chunk alone describes the same streams with a third of the bytes.
        CodecFrameInfo single = Z4AiCodec.Inspect(Z4AiCodec.Compress(chunk, DType.BF16, new CodecOptions { ChunkSize = 4096, Effort = CompressionEffort.Fast, Shape = [1, 2048] }));
        Assert.That(single.Recipes.Single(), Is.EqualTo(new KeyValuePair<string, int>(info.Recipes[0].Key, 1)));
        Assert.That(
            single.Streams.Select(s => (s.Path, s.Coder, s.Chunks, s.RawBytes * 3, s.EncodedBytes * 3)),
            Is.EqualTo(info.Streams.Select(s => (s.Path, s.Coder, 1, s.RawBytes, s.EncodedBytes))));

        // The field entropies of the pattern: sign 0, exponent 1 bit (0x7E or 0x7F, half each), 7 mantissa bits.
        Assert.That(info.SignEntropyBits, Is.EqualTo(0.0));
        Assert.That(info.ExponentEntropyBits, Is.EqualTo(1.0).Within(1e-12));
        Assert.That(info.MantissaEntropyBits, Is.EqualTo(7.0).Within(1e-12));
    }

    [Test]
    public void Inspect_TwoRecipes_AreListedInOrderOfFirstUse()
    {
        byte[] zeros = new byte[4096];
        byte[] noise = new byte[4096];
        new Random(3).NextBytes(noise);
        byte[] frame = Z4AiCodec.Compress([.. zeros, .. noise, .. zeros, .. noise, .. noise], DType.U8, new CodecOptions { ChunkSize = 4096 });
        CodecFrameInfo info = Z4AiCodec.Inspect(frame);
        Assert.That(info.Recipes.Select(r => r.Value), Is.EqualTo(new[] { 2, 3 }));
        Assert.That(info.Recipes[1].Key, Is.EqualTo("stored"));
        Assert.That(info.Recipes[0].Key, Is.Not.EqualTo("stored"));
        Assert.That(info.SignEntropyBits, Is.Null, "U8 has no float fields");
        Assert.That(info.ElementCount, Is.EqualTo(5 * 4096));
    }

    [Test]
    public void Inspect_WrongDigest_NamesBothDigests()
    {
        byte[] raw = new byte[100];
        byte[] frame = Z4AiCodec.Compress(raw, DType.U8);
        frame[^1] ^= 1;
        string recorded = Convert.ToHexStringLower(frame.AsSpan(frame.Length - 32));
        string actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(raw));
        var ex = Assert.Throws<Z4AiIntegrityException>(() => Z4AiCodec.Inspect(frame))!;
        Assert.That(ex.Message, Is.EqualTo($"integrity check failed for 'buffer': expected SHA-256 {recorded}, got {actual}"));
    }

    [Test]
    public void ArchiveStreamsTryEncode_BelowTheMinimumOrTheBudget_WritesNothing()
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.That(ArchiveStreams.TryEncode(new byte[ArchiveStreams.MinLength - 1], 10_000, output), Is.Zero);
        Assert.That(ArchiveStreams.TryEncode(new byte[ArchiveStreams.MinLength], 2, output), Is.Zero);
        Assert.That(ArchiveStreams.TryEncode(new byte[ArchiveStreams.MinLength], 1, output), Is.Zero);
        Assert.That(output.WrittenCount, Is.Zero);

        byte[] noise = new byte[2048];
        new Random(8).NextBytes(noise);
        Assert.That(ArchiveStreams.TryEncode(noise, 2048, output), Is.Zero, "random bytes do not beat a copy");
        Assert.That(output.WrittenCount, Is.Zero);
    }

    [Test]
    public void ArchiveStreamsTryEncode_AtTheMinimumLength_WritesALeafThatDecodes()
    {
        byte[] data = [.. Enumerable.Range(0, ArchiveStreams.MinLength).Select(i => (byte)(i % 3 == 0 ? 7 : 1))];
        var output = new ArrayBufferWriter<byte>();
        int written = ArchiveStreams.TryEncode(data, 10_000, output);
        Assert.That(written, Is.GreaterThan(1));
        Assert.That(written, Is.EqualTo(output.WrittenCount));
        Assert.That(output.WrittenSpan[0], Is.EqualTo((byte)RecipeKind.ArchiveModel));
        byte[] back = new byte[data.Length];
        ArchiveStreams.Decode(output.WrittenSpan[1..], back);
        Assert.That(back, Is.EqualTo(data));

        // A budget below the leaf's own size is refused; one just above it gives the same leaf.
        var again = new ArrayBufferWriter<byte>();
        Assert.That(ArchiveStreams.TryEncode(data, written - 1, again), Is.Zero);
        Assert.That(again.WrittenCount, Is.Zero);
        Assert.That(ArchiveStreams.TryEncode(data, written + 1, again), Is.EqualTo(written));
        Assert.That(again.WrittenSpan.ToArray(), Is.EqualTo(output.WrittenSpan.ToArray()));
    }
}
