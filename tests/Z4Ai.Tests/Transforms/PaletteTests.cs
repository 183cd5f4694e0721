using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Internal;
using Z4Ai.Transforms;

namespace Z4Ai.Tests.Transforms;

public class PaletteTests
{
    private static byte[] RoundTrip(byte[] raw, DType dtype, PalettePlan plan)
    {
        var writer = new ArrayBufferWriter<byte>();
        Assert.That(Palette.Encode(raw, plan, writer), Is.EqualTo(plan.EstimatedSize));
        Assert.That(writer.WrittenCount, Is.LessThan(raw.Length));
        var back = new byte[raw.Length];
        Palette.Decode(writer.WrittenSpan, dtype, back);
        Assert.That(back, Is.EqualTo(raw));
        return writer.WrittenSpan.ToArray();
    }

    private static byte[] Floats(IEnumerable<float> values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    [Test]
    public void ToKey_FloatsAndSignedIntegers_SortInNumericOrder()
    {
        Prop.ForAll(ArbMap.Default.GeneratorFor<float>().ArrayOf().ToArbitrary(), values =>
        {
            float[] finite = values.Where(float.IsFinite).Distinct().ToArray();
            ulong[] keys = finite.Select(f => Palette.ToKey(BitConverter.SingleToUInt32Bits(f), 32, Palette.KeyKind.SignMagnitude)).ToArray();
            float[] byKey = finite.Zip(keys).OrderBy(p => p.Second).Select(p => p.First).ToArray();
            float[] byValue = finite.OrderBy(f => f).ThenBy(f => BitConverter.SingleToInt32Bits(f)).ToArray();
            return byKey.SequenceEqual(byValue)
                && keys.Zip(finite).All(p => Palette.FromKey(p.First, 32, Palette.KeyKind.SignMagnitude) == BitConverter.SingleToUInt32Bits(p.Second));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));

        Prop.ForAll(ArbMap.Default.GeneratorFor<short>().ArrayOf().ToArbitrary(), values =>
        {
            ulong[] keys = values.Select(v => Palette.ToKey((ushort)v, 16, Palette.KeyKind.TwosComplement)).ToArray();
            return values.Zip(keys).OrderBy(p => p.Second).Select(p => p.First).SequenceEqual(values.OrderBy(v => v))
                && keys.Zip(values).All(p => Palette.FromKey(p.First, 16, Palette.KeyKind.TwosComplement) == (ushort)p.Second);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    // Integer codes with one F32 scale per row, dequantised as frameworks do: (narrow)((float)code * scale).
    internal static byte[] CodesThroughF32(DType dtype, int rows, int columns, int qmax, int seed)
    {
        var random = new Random(seed);
        var raw = new byte[rows * columns * 2];
        for (int r = 0; r < rows; r++)
        {
            float scale = (float)(0.02 * Math.Exp(random.NextDouble() - 0.5) / qmax);
            for (int c = 0; c < columns; c++)
            {
                int code = Math.Clamp((int)Math.Round(qmax * 0.3 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())), -qmax, qmax);
                float value = code * scale;
                ushort bits = dtype == DType.F16
                    ? BitConverter.HalfToUInt16Bits((Half)value)
                    : (ushort)((BitConverter.SingleToUInt32Bits(value) + 0x7FFFu + ((BitConverter.SingleToUInt32Bits(value) >> 16) & 1u)) >> 16);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(raw.AsSpan(2 * ((r * columns) + c)), bits);
            }
        }

        return raw;
    }

    [TestCase(DType.BF16, 127)]
    [TestCase(DType.BF16, 7)]
    [TestCase(DType.F16, 127)]
    [TestCase(DType.F16, 7)]
    public void TryPlan_IntCodesDequantisedThroughF32_AffineGroupsWithF32Scales(DType dtype, int qmax)
    {
        const int rows = 24;
        const int columns = 512;
        byte[] raw = CodesThroughF32(dtype, rows, columns, qmax, 5);
        Assert.That(Palette.TryPlan(raw, dtype, [rows, columns], out PalettePlan? plan, byteAlignedIndices: true), Is.True);
        PaletteParameters p = plan!.Parameters;
        Assert.That(p.Layout, Is.EqualTo(PaletteLayout.GroupedWide));
        Assert.That(p.GroupLength, Is.EqualTo(columns));
        Assert.That(p.CodebookEntries, Is.EqualTo(rows * Palette.WideScaleEntries), "one F32 scale per row, no codebooks");
        byte[] frame = RoundTrip(raw, dtype, plan);
        Assert.That(frame.Length, Is.LessThan((rows * columns) + (rows * 8)));
    }

    [TestCase(DType.BF16, 64)]
    [TestCase(DType.BF16, 128)]
    [TestCase(DType.F16, 96)]
    public void TryPlan_Int8CodesInRowsShorterThanTheIndexRange_RoundTripsEveryRow(DType dtype, int columns)
    {
        // 255 codes need 8-bit indices, more than a row has elements: the decoder computes each row's products as the
        // row first uses them instead of all 256, and must give the same bytes for every row.
        const int rows = 40;
        byte[] raw = CodesThroughF32(dtype, rows, columns, 127, 9);
        Assert.That(Palette.TryPlan(raw, dtype, [rows, columns], out PalettePlan? plan, byteAlignedIndices: true), Is.True);
        PaletteParameters p = plan!.Parameters;
        Assert.That(p.Layout, Is.EqualTo(PaletteLayout.GroupedWide));
        Assert.That(p.GroupLength, Is.EqualTo(columns));
        Assert.That(1 << p.IndexBits, Is.GreaterThan(p.GroupLength));
        RoundTrip(raw, dtype, plan);
    }

    [TestCase(DType.BF16, 7, false)]
    [TestCase(DType.F16, 7, false)]
    [TestCase(DType.F16, 127, true)]
    public void Decode_RunsOfRowsSharingAScale_ReuseAndResetTheirProducts(DType dtype, int qmax, bool byteAligned)
    {
        // Rows dequantised with one scale per rule, in runs that repeat and come back (rules 0, 0, 1, 0, 2, 2, ...; the
        // many other rules make a global codebook too wide to win): the decoder keeps a rule's products while
        // consecutive groups share it and must reset them when the rule changes, or a row would take the previous
        // rule's products for the indices they have in common.
        int[] rules = [0, 0, 1, 0, 2, 2, 0, 1, 1, 0, .. Enumerable.Range(3, 30), 0, 0];
        const int columns = 64;
        var random = new Random(qmax);
        float[] scales = Enumerable.Range(0, 33).Select(_ => (float)(0.02 * Math.Exp(random.NextDouble() - 0.5) / qmax)).ToArray();
        var raw = new byte[rules.Length * columns * 2];
        for (int r = 0; r < rules.Length; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                // Every row holds -qmax and qmax, so rows of one rule have the same code offset and scale.
                int code = c == 0 ? -qmax : c == 1 ? qmax
                    : Math.Clamp((int)Math.Round(qmax * 0.3 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())), -qmax, qmax);
                uint single = BitConverter.SingleToUInt32Bits(code * scales[rules[r]]);
                ushort bits = dtype == DType.F16
                    ? BitConverter.HalfToUInt16Bits((Half)BitConverter.UInt32BitsToSingle(single))
                    : (ushort)((single + 0x7FFFu + ((single >> 16) & 1u)) >> 16);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(raw.AsSpan(2 * ((r * columns) + c)), bits);
            }
        }

        Assert.That(Palette.TryPlan(raw, dtype, [rules.Length, columns], out PalettePlan? plan, byteAlignedIndices: byteAligned), Is.True);
        PaletteParameters p = plan!.Parameters;
        Assert.That(p.Layout, Is.Not.EqualTo(PaletteLayout.Global));
        int perRule = p.Layout == PaletteLayout.GroupedWide ? Palette.WideScaleEntries : 1;
        Assert.That(p.CodebookEntries, Is.EqualTo(rules.Length * perRule), "every row an affine group");
        Assert.That(p.IndexBits == 8, Is.EqualTo(byteAligned), "both index readers are exercised");
        RoundTrip(raw, dtype, plan);
    }

    [TestCase(DType.BF16, 7)]
    [TestCase(DType.BF16, 127)]
    [TestCase(DType.F16, 7)]
    public void TryAffineWide_RowsThroughF32_ProvenScaleHasFewSignificantBits(DType dtype, int qmax)
    {
        // The stored values pin a row's F32 scale only to an interval; the scale taken is the one in it with the fewest
        // significant bits, so the codebook's low mantissa byte is zero (the middle of the interval left it random).
        const int rows = 32;
        const int columns = 512;
        byte[] raw = CodesThroughF32(dtype, rows, columns, qmax, 21);
        FloatFormat format = dtype == DType.F16 ? FloatFormat.F16 : FloatFormat.BF16;
        int lowByteZero = 0;
        for (int r = 0; r < rows; r++)
        {
            ushort[] values = [.. Enumerable.Range(0, columns).Select(c => BitConverter.ToUInt16(raw, 2 * ((r * columns) + c))).Distinct()];
            ulong[] keys = [.. values.Select(v => Palette.ToKey(v, 16, Palette.KeyKind.SignMagnitude)).Order()];
            Assert.That(Palette.TryAffineWide(keys, 16, format, out long c0, out ulong span, out ulong scale), Is.True, $"row {r}");
            foreach (ushort v in values)
            {
                Assert.That(Palette.TryCodeWide(v, scale, format, out long code) && code >= c0 && code <= c0 + (long)span, Is.True, $"row {r} value 0x{v:X4}");
            }

            lowByteZero += (scale & 0xFF) == 0 ? 1 : 0;
        }

        Assert.That(lowByteZero, Is.GreaterThanOrEqualTo(rows - 2), "scales whose low mantissa byte is zero");
    }

    [Test]
    public void TryAffineWide_ValuesNotProductsOfOneScale_ReturnsFalse()
    {
        // Dense BF16 weights: no scale makes them integer codes within the index range.
        var random = new Random(3);
        ushort[] values = Enumerable.Range(0, 200)
            .Select(_ => (ushort)(BitConverter.SingleToUInt32Bits((float)(random.NextDouble() - 0.5)) >> 16)).Distinct().ToArray();
        ulong[] keys = values.Select(v => Palette.ToKey(v, 16, Palette.KeyKind.SignMagnitude)).Order().ToArray();
        Assert.That(Palette.TryAffineWide(keys, 16, FloatFormat.BF16, out _, out _, out _), Is.False);

        // -0.0 is no product of a positive scale.
        ulong[] withNegativeZero = [.. new ulong[] { 0x8000, 0x3F80, 0x4000, 0x4040 }.Select(v => Palette.ToKey(v, 16, Palette.KeyKind.SignMagnitude)).Order()];
        Assert.That(Palette.TryAffineWide(withNegativeZero, 16, FloatFormat.BF16, out _, out _, out _), Is.False);
    }

    [Test]
    public void TryPlan_FewDistinctFloats_GlobalCodebookSortedByValue()
    {
        float[] pool = [-2.5f, 1.0f, -0.0f, 0.0f, 3.0f, float.NaN, float.NegativeInfinity];
        byte[] raw = Floats(Enumerable.Range(0, 200).Select(i => pool[(i * 3) % pool.Length]));
        Assert.That(Palette.TryPlan(raw, DType.F32, [], out PalettePlan? plan), Is.True);
        Assert.That(plan!.Parameters.Layout, Is.EqualTo(PaletteLayout.Global));
        Assert.That(plan.Parameters.IndexBits, Is.EqualTo(3));
        float[] codebook = Enumerable.Range(0, plan.Parameters.CodebookEntries).Select(e => BitConverter.ToSingle(plan.Codebook[(e * 4)..])).ToArray();
        // float.NaN is 0xFFC00000: its sign bit sorts it below -inf, like the most negative pattern.
        Assert.That(float.IsNaN(codebook[0]), Is.True);
        Assert.That(codebook[1..], Is.EqualTo(new[] { float.NegativeInfinity, -2.5f, -0.0f, 0.0f, 1.0f, 3.0f }));
        Assert.That(BitConverter.SingleToInt32Bits(codebook[3]), Is.EqualTo(int.MinValue), "-0.0 keeps its own entry");
        RoundTrip(raw, DType.F32, plan);
    }

    [Test]
    public void TryPlan_ConstantTensor_NeedsNoIndexBits()
    {
        byte[] raw = Floats(Enumerable.Repeat(0.125f, 100));
        Assert.That(Palette.TryPlan(raw, DType.F32, [], out PalettePlan? plan), Is.True);
        Assert.That(plan!.Parameters.IndexBits, Is.Zero);
        Assert.That(plan.Parameters.IndicesLength, Is.Zero);
        Assert.That(RoundTrip(raw, DType.F32, plan), Has.Length.EqualTo(7));
    }

    [Test]
    public void TryPlan_ByteAlignedIndices_RoundsWidthUpToWholeBytes()
    {
        byte[] raw = Floats(Enumerable.Range(0, 300).Select(i => (float)(i % 5)));
        Assert.That(Palette.TryPlan(raw, DType.F32, [], out PalettePlan? packed), Is.True);
        Assert.That(packed!.Parameters.IndexBits, Is.EqualTo(3));
        Assert.That(Palette.TryPlan(raw, DType.F32, [], out PalettePlan? aligned, byteAlignedIndices: true), Is.True);
        Assert.That(aligned!.Parameters.IndexBits, Is.EqualTo(8));
        RoundTrip(raw, DType.F32, aligned);
    }

    [TestCase(DType.F16)]
    [TestCase(DType.BF16)]
    [TestCase(DType.F32)]
    public void Decode_GlobalByteIndices_ShuffleLookupRestoresAndNamesTheFirstBadElement(DType dtype)
    {
        // A few distinct values over an awkward length: the shuffle lookup covers the whole blocks, the scalar loop the rest.
        int size = dtype.ElementSize();
        byte[] raw = new byte[1003 * size];
        var random = new Random(4);
        for (int i = 0; i < 1003; i++)
        {
            int v = random.Next(6);
            raw[i * size] = (byte)(v * 3);
            raw[(i * size) + size - 1] |= (byte)(v << 2);
        }

        Assert.That(Palette.TryPlan(raw, dtype, [], out PalettePlan? plan, byteAlignedIndices: true), Is.True);
        Assert.That(plan!.Parameters.Layout, Is.EqualTo(PaletteLayout.Global));
        Assert.That(plan.Parameters.IndexBits, Is.EqualTo(8));
        byte[] frame = RoundTrip(raw, dtype, plan);

        // Indices are the frame's last bytes, one per element: element 700 (inside a vector block) points past the codebook.
        byte[] damaged = (byte[])frame.Clone();
        damaged[damaged.Length - 1003 + 700] = 200;
        var ex = Assert.Throws<Z4AiFormatException>(() => Palette.Decode(damaged, dtype, new byte[raw.Length]));
        Assert.That(ex!.Detail, Does.Contain("palette index 200 at element 700 is not below"));
    }

    [Test]
    public void TryPlan_RowScaledCodesRoundedTwice_UsesF32Scales()
    {
        // BF16 stored from F32 products: rounding twice breaks the BF16-scale affine proof; an F32 scale per row
        // (the product rounded in F32, then to BF16) describes every row exactly.
        var random = new Random(12);
        var raw = new byte[64 * 256 * 2];
        for (int r = 0; r < 64; r++)
        {
            float scale = 0.001f + random.NextSingle();
            for (int c = 0; c < 256; c++)
            {
                float v = random.Next(-8, 8) * scale;
                uint bits = BitConverter.SingleToUInt32Bits(v);
                BitConverter.TryWriteBytes(raw.AsSpan(((r * 256) + c) * 2), (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16));
            }
        }

        Assert.That(Palette.TryPlan(raw, DType.BF16, [64, 256], out PalettePlan? plan), Is.True);
        Assert.That(plan!.Parameters.Layout, Is.EqualTo(PaletteLayout.GroupedWide));
        Assert.That(plan.Parameters.CodebookEntries, Is.EqualTo(64 * Palette.WideScaleEntries));
        Assert.That(plan.Parameters.IndexBits, Is.EqualTo(4));
        RoundTrip(raw, DType.BF16, plan);
    }

    [Test]
    public void TryAffine_ExactProducts_FindsScaleAndCodes()
    {
        float scale = 0.0371f;
        uint[] values = [.. new[] { -3, -1, 0, 2, 5 }.Select(c => BitConverter.SingleToUInt32Bits(c * scale))];
        ulong[] keys = [.. values.Select(v => Palette.ToKey(v, 32, Palette.KeyKind.SignMagnitude)).Order()];
        Assert.That(Palette.TryAffine(keys, 32, FloatFormat.F32, out long c0, out ulong span, out ulong s), Is.True);
        Assert.That((c0, span, s), Is.EqualTo((-3L, 8UL, (ulong)BitConverter.SingleToUInt32Bits(scale))));
    }

    [Test]
    public void TryAffine_EvenCodesOnly_UsesHalfTheSmallestMagnitude()
    {
        float scale = 0.3f;
        ulong[] keys = [.. new[] { -4, 2, 6 }.Select(c => Palette.ToKey(BitConverter.SingleToUInt32Bits(c * scale), 32, Palette.KeyKind.SignMagnitude)).Order()];
        Assert.That(Palette.TryAffine(keys, 32, FloatFormat.F32, out long c0, out ulong span, out _), Is.True);
        Assert.That((c0, span), Is.EqualTo((-2L, 5UL)), "codes -2, 1, 3 of the scale 2 * 0.3 are found first");
    }

    [TestCase(0x80000000u, TestName = "TryAffine_NegativeZero_IsRejected")]
    [TestCase(0x7FC00000u, TestName = "TryAffine_NaN_IsRejected")]
    [TestCase(0x3F8CCCCEu, TestName = "TryAffine_ValueOneUlpOffTheProduct_IsRejected")]
    public void TryAffine_ValueThatIsNoProduct_IsRejected(uint odd)
    {
        float scale = 0.1f;
        uint[] values = [BitConverter.SingleToUInt32Bits(scale), BitConverter.SingleToUInt32Bits(2 * scale), odd];
        ulong[] keys = [.. values.Select(v => Palette.ToKey(v, 32, Palette.KeyKind.SignMagnitude)).Order()];
        Assert.That(Palette.TryAffine(keys, 32, FloatFormat.F32, out _, out _, out _), Is.False);
    }

    [Test]
    public void TryPlan_GroupWithNegativeZero_FallsBackToCodebookForThatGroup()
    {
        var random = new Random(13);
        float[] values = new float[64 * 128];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = random.Next(-8, 8) * (0.01f + (i / 128 * 0.001f));
        }

        values[5] = -0.0f;
        byte[] raw = Floats(values);
        Assert.That(Palette.TryPlan(raw, DType.F32, [64, 128], out PalettePlan? plan), Is.True);
        Assert.That(plan!.Parameters.Layout, Is.EqualTo(PaletteLayout.Grouped));
        Assert.That(plan.GroupTable[0] & 1, Is.Zero, "first group is a codebook group");
        Assert.That(plan.GroupTable[1] & 1, Is.EqualTo(1), "second group is affine");
        RoundTrip(raw, DType.F32, plan);
    }

    [Test]
    public void TryPlan_RowLengthNotDividingTheChunk_IsNotUsedAsGroup()
    {
        // Codes scaled per 64 elements; the shape claims rows of 1000, which do not tile these 4096 elements.
        var random = new Random(21);
        byte[] raw = Floats(Enumerable.Range(0, 4096).Select(i => random.Next(-8, 8) * (0.01f + (i / 64 * 0.0007f))));
        Assert.That(Palette.TryPlan(raw, DType.F32, [5, 1000], out PalettePlan? plan), Is.True);
        Assert.That(plan!.Parameters.GroupLength, Is.EqualTo(64));
        RoundTrip(raw, DType.F32, plan);
    }

    [Test]
    public void TryPlan_ManyDistinctWideValues_GivesUpWithoutPalette()
    {
        byte[] raw = Enumerable.Range(0, 70_000).SelectMany(i => BitConverter.GetBytes((long)i * 7919)).ToArray();
        Assert.That(Palette.TryPlan(raw, DType.I64, [], out _), Is.False);
    }

    [Test]
    public void Parameters_WriteThenRead_GivesTheSameSizes()
    {
        byte[] raw = TransformSamples.Build(DType.F32, 2048, 7, 22).Raw;
        Assert.That(Palette.TryPlan(raw, DType.F32, [64, 32], out PalettePlan? plan), Is.True);
        PaletteParameters p = plan!.Parameters;
        var writer = new ArrayBufferWriter<byte>();
        p.Write(writer);
        Assert.That(writer.WrittenCount, Is.EqualTo(p.ParametersLength));
        var reader = new SpanReader(writer.WrittenSpan);
        PaletteParameters read = PaletteParameters.Read(ref reader, DType.F32, raw.Length);
        Assert.That(
            (read.Layout, read.IndexBits, read.CodebookEntries, read.GroupLength, read.GroupTableLength, read.EstimatedSize),
            Is.EqualTo((p.Layout, p.IndexBits, p.CodebookEntries, p.GroupLength, p.GroupTableLength, p.EstimatedSize)));
    }
}
