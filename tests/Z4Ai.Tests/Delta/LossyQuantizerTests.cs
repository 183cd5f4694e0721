using System.Buffers.Binary;
using CommunityToolkit.HighPerformance.Buffers;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Delta;
using Z4Ai.Internal;

namespace Z4Ai.Tests.Delta;

/// <summary>The lossy quantizers and the per-tensor codec: error bounds per tier, determinism, block coding.</summary>
public class LossyQuantizerTests
{
    private static readonly int[] AwkwardColumns = [1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 257];

    private static readonly DType[] FloatTypes = [DType.F32, DType.F16, DType.BF16];

    private static readonly LossySettings Defaults = new(LossyTier.Int8, 0, 5000, 50_000, false, false, 0, 4096, CompressionEffort.Default);

    [Test]
    public void ZigZag_EveryLevel_RoundTrips()
    {
        for (int q = -127; q <= 127; q++)
        {
            Assert.That(LossyQuantizer.UnZigZag(LossyQuantizer.ZigZag(q)), Is.EqualTo(q));
        }

        Assert.That(LossyQuantizer.ZigZag(-7), Is.EqualTo(13));
        Assert.That(LossyQuantizer.ZigZag(7), Is.EqualTo(14));
    }

    [Test]
    public void ToBFloat16_Halfway_RoundsToEven()
    {
        Assert.That(LossyElements.ToBFloat16(1f + MathF.Pow(2, -8)), Is.EqualTo(0x3F80), "1 + 2^-8 is halfway; the even neighbour is 1");
        Assert.That(LossyElements.ToBFloat16(1f + (3 * MathF.Pow(2, -8))), Is.EqualTo(0x3F82), "1 + 3·2^-8 is halfway; the even neighbour is 1 + 2^-6");
        Assert.That(LossyElements.ToBFloat16(-2.5f), Is.EqualTo(0xC020));
        Assert.That(LossyElements.ToBFloat16(float.NaN) & 0x7FC0, Is.EqualTo(0x7FC0));
    }

    [Test]
    public void QuantizeGroups_RandomDeltas_ErrorWithinHalfAStep()
    {
        Gen<(int Rows, int Cols, int Group, int Seed, bool Int4)> gen =
            from rows in Gen.Choose(1, 6)
            from cols in Gen.Choose(1, 70)
            from g in Gen.Choose(0, 80)
            from seed in Gen.Choose(0, 10_000)
            from int4 in Gen.Elements(false, true)
            select (rows, cols, g, seed, int4);
        Prop.ForAll(gen.ToArbitrary(), c =>
        {
            var random = new Random(c.Seed);
            float[] d = Enumerable.Range(0, c.Rows * c.Cols).Select(_ => LossyTestModels.Gaussian(random) * 0.01f).ToArray();
            int group = c.Group == 0 ? c.Cols : Math.Min(c.Group, c.Cols);
            int qmax = c.Int4 ? LossyQuantizer.Int4Max : LossyQuantizer.Int8Max;
            float[] scales = new float[c.Rows * LossyQuantizer.GroupsPerRow(c.Cols, group)];
            byte[] symbols = new byte[d.Length];
            LossyQuantizer.QuantizeGroups(d, c.Cols, group, qmax, [], scales, symbols);
            int perRow = LossyQuantizer.GroupsPerRow(c.Cols, group);
            for (int i = 0; i < d.Length; i++)
            {
                int row = i / c.Cols;
                float scale = scales[(row * perRow) + ((i % c.Cols) / group)];
                float dq = LossyQuantizer.UnZigZag(symbols[i]) * scale;
                double bound = (scale / 2.0 * (1 + 1e-6)) + 1e-12;
                if (Math.Abs(d[i] - dq) > bound || Math.Abs(LossyQuantizer.UnZigZag(symbols[i])) > qmax)
                {
                    return false;
                }
            }

            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [Test]
    public void SelectTopK_Ties_KeepsLargestAndLowestIndices()
    {
        float[] d = [0.5f, -3f, 2f, -2f, 2f, 0f, 1f];
        Assert.That(LossyQuantizer.SelectTopK(d, 3), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(LossyQuantizer.SelectTopK(d, 0), Is.Empty);
        Assert.That(LossyQuantizer.SelectTopK(d, 10), Is.EqualTo(Enumerable.Range(0, 7).ToArray()));
    }

    [Test]
    public void SelectTopK_Random_EverySelectedAtLeastEveryDropped()
    {
        var random = new Random(5);
        float[] d = Enumerable.Range(0, 1000).Select(_ => (float)Math.Round(LossyTestModels.Gaussian(random), 1)).ToArray();
        int[] kept = LossyQuantizer.SelectTopK(d, 123);
        Assert.That(kept, Has.Length.EqualTo(123));
        Assert.That(kept, Is.Ordered.Ascending);
        var set = kept.ToHashSet();
        float minKept = kept.Min(i => Math.Abs(d[i]));
        float maxDropped = Enumerable.Range(0, d.Length).Where(i => !set.Contains(i)).Max(i => Math.Abs(d[i]));
        Assert.That(minKept, Is.GreaterThanOrEqualTo(maxDropped));
    }

    [Test]
    public void SelectRandom_SameSeed_SameIndicesAndAboutTheFraction()
    {
        int[] a = LossyQuantizer.SelectRandom(100_000, 100_000, 7);
        int[] b = LossyQuantizer.SelectRandom(100_000, 100_000, 7);
        Assert.That(a, Is.EqualTo(b));
        Assert.That(a.Length, Is.InRange(9_000, 11_000));
        Assert.That(LossyQuantizer.SelectRandom(100_000, 100_000, 8), Is.Not.EqualTo(a));
    }

    [Test]
    public void QuantizeSigns_IdentityMoments_EqualMeanMagnitude()
    {
        var random = new Random(3);
        const int cols = 12;
        float[] d = Enumerable.Range(0, 3 * cols).Select(_ => LossyTestModels.Gaussian(random)).ToArray();
        float[] plain = new float[3];
        float[] refined = new float[3];
        byte[] symbols = new byte[d.Length];
        LossyQuantizer.QuantizeSigns(d, cols, default, plain, symbols);
        float[] identity = new float[cols * cols];
        for (int j = 0; j < cols; j++)
        {
            identity[(j * cols) + j] = 2f;
        }

        LossyQuantizer.QuantizeSigns(d, cols, identity, refined, symbols);
        for (int r = 0; r < 3; r++)
        {
            double mean = d.Skip(r * cols).Take(cols).Average(x => Math.Abs((double)x));
            Assert.That(plain[r], Is.EqualTo((float)mean));
            Assert.That(refined[r], Is.EqualTo(plain[r]).Within(1e-6));
        }

        Assert.That(symbols.Select((s, i) => s == (d[i] < 0 ? 1 : 0)).All(x => x), Is.True);
    }

    [Test]
    public void QuantizeSigns_CorrelatedInputs_RefinedScaleLowersOutputError()
    {
        // Inputs that are the same value in every column: only the row sum of the delta matters to the output.
        const int cols = 16;
        float[] d = Enumerable.Range(0, cols).Select(j => j < 12 ? 0.1f : -0.3f).ToArray();
        float[] ones = Enumerable.Repeat(1f, cols * cols).ToArray();
        float[] plain = new float[1];
        float[] refined = new float[1];
        byte[] symbols = new byte[cols];
        LossyQuantizer.QuantizeSigns(d, cols, default, plain, symbols);
        LossyQuantizer.QuantizeSigns(d, cols, ones, refined, symbols);
        double OutputError(float s) => Math.Abs(d.Sum() - Enumerable.Range(0, cols).Sum(j => symbols[j] == 0 ? s : -s));
        Assert.That(OutputError(refined[0]), Is.LessThan(OutputError(plain[0])));
    }

    [TestCaseSource(nameof(CodecCases))]
    public void TensorCodec_EveryTier_ReconstructionWithinTheoreticalBound(LossyTier tier, DType dtype, int cols)
    {
        const int rows = 5;
        (byte[] target, byte[] @base, float[] t, float[] b) = MakePair(dtype, rows, cols, seed: cols);
        LossySettings settings = Defaults with { Tier = tier, OutlierPpm = 20_000, SparsePpm = 250_000, GroupSize = 8 };
        using var record = new ArrayPoolBufferWriter<byte>();
        long[] shape = [rows, cols];
        (LossyTier mode, byte[] reconstructed) = LossyTensorCodec.Encode("w", tier, dtype, shape, target, @base, settings, default, record);
        Assert.That(mode, Is.EqualTo(tier));
        Assert.That(LossyTensorCodec.Decode(record.WrittenSpan, mode, dtype, shape, @base), Is.EqualTo(reconstructed), "the decoder reproduces the encoder's reconstruction");

        int n = rows * cols;
        float[] r = new float[n];
        LossyElements.ToFloat(reconstructed, dtype, r);
        float[] d = new float[n];
        LossyQuantizer.ComputeDelta(t, b, d);
        double threshold = SortedMagnitudes(d)[n - Math.Max(1, n / 4)];
        double ulp = dtype switch { DType.F32 => 1.2e-7, DType.F16 => 9.8e-4, _ => 7.9e-3 };
        for (int i = 0; i < n; i++)
        {
            int row = i / cols;
            int g0 = (row * cols) + ((i % cols) / 8 * 8);
            double groupMax = Enumerable.Range(g0, Math.Min(8, ((row + 1) * cols) - g0)).Max(k => Math.Abs((double)d[k]));
            double rowMax = Enumerable.Range(row * cols, cols).Max(k => Math.Abs((double)d[k]));
            double rowMean = Enumerable.Range(row * cols, cols).Average(k => Math.Abs((double)d[k]));
            double bound = tier switch
            {
                LossyTier.Int8 => groupMax / (2 * LossyQuantizer.Int8Max),
                LossyTier.Int4 => groupMax / (2 * LossyQuantizer.Int4Max),
                LossyTier.Sparse => Math.Max(threshold, rowMax / (2 * LossyQuantizer.Int8Max)),
                _ => Math.Abs(d[i]) + rowMean,
            };
            double tolerance = (bound * 1e-5) + (ulp * Math.Max(Math.Abs(t[i]), Math.Abs(r[i])));
            Assert.That(Math.Abs(r[i] - t[i]), Is.LessThanOrEqualTo(bound + tolerance), $"{tier} {dtype} cols {cols}: element {i}");
        }
    }

    private static IEnumerable<TestCaseData> CodecCases()
    {
        foreach (LossyTier tier in new[] { LossyTier.Int8, LossyTier.Int4, LossyTier.Sparse, LossyTier.OneBit })
        {
            foreach (DType dtype in FloatTypes)
            {
                foreach (int cols in AwkwardColumns)
                {
                    yield return new TestCaseData(tier, dtype, cols);
                }
            }
        }
    }

    [Test]
    public void TensorCodec_SameInput_SameRecordAndReconstruction()
    {
        (byte[] target, byte[] @base, _, _) = MakePair(DType.BF16, 9, 33, seed: 4);
        foreach (LossyTier tier in new[] { LossyTier.Int8, LossyTier.Int4, LossyTier.Sparse, LossyTier.OneBit })
        {
            LossySettings settings = Defaults with { Tier = tier, DropAndRescale = tier == LossyTier.Sparse, Seed = 11 };
            using var first = new ArrayPoolBufferWriter<byte>();
            using var second = new ArrayPoolBufferWriter<byte>();
            byte[] r1 = LossyTensorCodec.Encode("w", tier, DType.BF16, [9, 33], target, @base, settings, default, first).Reconstructed;
            byte[] r2 = LossyTensorCodec.Encode("w", tier, DType.BF16, [9, 33], target, @base, settings, default, second).Reconstructed;
            Assert.That(second.WrittenSpan.ToArray(), Is.EqualTo(first.WrittenSpan.ToArray()), tier.ToString());
            Assert.That(r2, Is.EqualTo(r1), tier.ToString());
        }
    }

    [Test]
    public void TensorCodec_Int4Outliers_AreExact()
    {
        (byte[] target, byte[] @base, float[] t, float[] b) = MakePair(DType.F32, 4, 50, seed: 9);
        LossySettings settings = Defaults with { OutlierPpm = 100_000 };
        using var record = new ArrayPoolBufferWriter<byte>();
        byte[] r = LossyTensorCodec.Encode("w", LossyTier.Int4, DType.F32, [4, 50], target, @base, settings, default, record).Reconstructed;
        float[] d = new float[200];
        LossyQuantizer.ComputeDelta(t, b, d);
        foreach (int i in LossyQuantizer.SelectTopK(d, 20))
        {
            Assert.That(r.AsSpan(i * 4, 4).ToArray(), Is.EqualTo(target.AsSpan(i * 4, 4).ToArray()), $"outlier {i}");
        }
    }

    [Test]
    public void TensorCodec_NonFiniteDelta_FallsBackToLossless()
    {
        (byte[] target, byte[] @base, _, _) = MakePair(DType.F32, 4, 16, seed: 2);
        BinaryPrimitives.WriteSingleLittleEndian(target.AsSpan(8), float.PositiveInfinity);
        using var record = new ArrayPoolBufferWriter<byte>();
        (LossyTier mode, byte[] r) = LossyTensorCodec.Encode("w", LossyTier.Int8, DType.F32, [4, 16], target, @base, Defaults, default, record);
        Assert.That(mode, Is.EqualTo(LossyTier.Lossless));
        Assert.That(r, Is.EqualTo(target));
    }

    [Test]
    public void ChooseMode_SmallRankOneAndOtherTypes_StayLossless()
    {
        Assert.That(LossyTensorCodec.ChooseMode(LossyTier.Int4, false, DType.F32, [4096], true, 16), Is.EqualTo(LossyTier.Lossless), "rank 1");
        Assert.That(LossyTensorCodec.ChooseMode(LossyTier.Int4, true, DType.F32, [4096], true, 16), Is.EqualTo(LossyTier.Int4), "rank 1, overridden");
        Assert.That(LossyTensorCodec.ChooseMode(LossyTier.Int4, false, DType.F32, [8, 8], true, 65), Is.EqualTo(LossyTier.Lossless), "small");
        Assert.That(LossyTensorCodec.ChooseMode(LossyTier.Int4, false, DType.F32, [8, 8], true, 64), Is.EqualTo(LossyTier.Int4));
        Assert.That(LossyTensorCodec.ChooseMode(LossyTier.Int4, true, DType.I32, [64, 64], true, 0), Is.EqualTo(LossyTier.Lossless), "integers");
        Assert.That(LossyTensorCodec.ChooseMode(LossyTier.Int4, true, DType.F64, [64, 64], true, 0), Is.EqualTo(LossyTier.Lossless), "F64");
        Assert.That(LossyTensorCodec.ChooseMode(LossyTier.Int4, true, DType.F32, [64, 64], false, 0), Is.EqualTo(LossyTier.Lossless), "no base");
        Assert.That(LossyTensorCodec.ChooseMode(LossyTier.Int4, true, DType.F32, [0, 64], true, 0), Is.EqualTo(LossyTier.Lossless), "empty");
        Assert.That(LossyTensorCodec.ChooseMode(LossyTier.OneBit, true, DType.F32, [], true, 0), Is.EqualTo(LossyTier.Lossless), "scalar");
    }

    [Test]
    public void Symbols_EveryWidth_RoundTripAndPickTheSmallerCoding()
    {
        var random = new Random(1);
        foreach (int bits in new[] { 1, 4, 8 })
        {
            foreach (int n in new[] { 0, 1, 7, 8, 9, 4095, 4096, 4097, 20_000 })
            {
                byte[] skewed = Enumerable.Range(0, n).Select(_ => (byte)(random.Next(10) == 0 ? random.Next(1 << bits) : 0)).ToArray();
                byte[] uniform = Enumerable.Range(0, n).Select(_ => (byte)random.Next(1 << bits)).ToArray();
                foreach (byte[] symbols in new[] { skewed, uniform })
                {
                    using var output = new ArrayPoolBufferWriter<byte>();
                    LossySymbols.WriteSymbols(symbols, bits, 17, CompressionEffort.Default, output);
                    Assert.That(output.WrittenCount, Is.LessThanOrEqualTo(1 + VarInt.MaxLength + ((n * bits) + 7) / 8), "never more than bit-packed");
                    byte[] decoded = new byte[n];
                    var reader = new SpanReader(output.WrittenSpan);
                    LossySymbols.ReadSymbols(ref reader, bits, 17, decoded);
                    Assert.That(decoded, Is.EqualTo(symbols), $"{bits} bits, {n} symbols");
                    Assert.That(reader.Remaining, Is.Zero);
                }
            }
        }
    }

    [Test]
    public void Indices_RoundTrip_AndHostileGapsThrowFormatErrors()
    {
        int[] indices = [0, 1, 5, 200, 201, 100_000];
        using var output = new ArrayPoolBufferWriter<byte>();
        LossySymbols.WriteIndices(indices, CompressionEffort.Default, output);
        int[] decoded = new int[indices.Length];
        var reader = new SpanReader(output.WrittenSpan);
        LossySymbols.ReadIndices(ref reader, 100_001, decoded);
        Assert.That(decoded, Is.EqualTo(indices));

        int[] tooMany = new int[indices.Length];
        Assert.Throws<Z4AiFormatException>(() =>
        {
            var r = new SpanReader(output.WrittenSpan);
            LossySymbols.ReadIndices(ref r, 100_000, tooMany);
        }, "an index beyond the tensor");
        Assert.Throws<Z4AiFormatException>(() =>
        {
            var r = new SpanReader(output.WrittenSpan);
            LossySymbols.ReadIndices(ref r, 100_001, new int[indices.Length - 1]);
        }, "left-over gap bytes");
    }

    [Test]
    public void Decode_MutatedRecords_ThrowOnlyFormatErrorsOrDecode()
    {
        (byte[] target, byte[] @base, _, _) = MakePair(DType.F16, 6, 40, seed: 12);
        foreach (LossyTier tier in new[] { LossyTier.Int8, LossyTier.Int4, LossyTier.Sparse, LossyTier.OneBit })
        {
            using var record = new ArrayPoolBufferWriter<byte>();
            LossySettings settings = Defaults with { OutlierPpm = 50_000, SparsePpm = 100_000 };
            LossyTensorCodec.Encode("w", tier, DType.F16, [6, 40], target, @base, settings, default, record);
            byte[] bytes = record.WrittenSpan.ToArray();
            for (int cut = 0; cut < bytes.Length; cut++)
            {
                Assert.Throws(Is.InstanceOf<Z4AiException>(), () => LossyTensorCodec.Decode(bytes.AsSpan(0, cut), tier, DType.F16, [6, 40], @base), $"{tier} cut {cut}");
            }

            var random = new Random((int)tier);
            for (int trial = 0; trial < 200; trial++)
            {
                byte[] mutated = (byte[])bytes.Clone();
                mutated[random.Next(mutated.Length)] ^= (byte)(1 << random.Next(8));
                try
                {
                    byte[] r = LossyTensorCodec.Decode(mutated, tier, DType.F16, [6, 40], @base);
                    Assert.That(r, Has.Length.EqualTo(target.Length));
                }
                catch (Z4AiException)
                {
                }
            }
        }
    }

    private static (byte[] Target, byte[] Base, float[] T, float[] B) MakePair(DType dtype, int rows, int cols, int seed)
    {
        var random = new Random(seed);
        int n = rows * cols;
        float[] b = Enumerable.Range(0, n).Select(_ => LossyTestModels.Gaussian(random) * 0.05f).ToArray();
        float[] t = b.Select(x => x + (LossyTestModels.Gaussian(random) * 0.003f)).ToArray();
        byte[] targetBytes = LossyTestModels.Encode(t, dtype);
        byte[] baseBytes = LossyTestModels.Encode(b, dtype);

        // The bounds are about what the codec sees: the values after rounding to the dtype.
        float[] tw = new float[n];
        float[] bw = new float[n];
        LossyElements.ToFloat(targetBytes, dtype, tw);
        LossyElements.ToFloat(baseBytes, dtype, bw);
        return (targetBytes, baseBytes, tw, bw);
    }

    private static double[] SortedMagnitudes(float[] d) => d.Select(x => Math.Abs((double)x)).Order().ToArray();
}
