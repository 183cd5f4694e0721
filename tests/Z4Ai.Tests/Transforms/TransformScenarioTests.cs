using System.Buffers;
using System.Diagnostics;
using NUnit.Framework;
using Z4Ai.Transforms;

namespace Z4Ai.Tests.Transforms;

/// <summary>
/// Realistic 1M-element tensors: each scenario checks that the intended transform is chosen, that it round-trips
/// exactly, and that its output (before any entropy coder) is within the size the structure allows. The sizes are
/// written to the test output as "scenario: raw -> encoded".
/// </summary>
public class TransformScenarioTests
{
    private const int N = 1 << 20;

    private static float Weight(Random random) =>
        (float)(0.02 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));

    private static byte[] Floats(Func<int, float> value)
    {
        var raw = new byte[N * 4];
        for (int i = 0; i < N; i++)
        {
            BitConverter.TryWriteBytes(raw.AsSpan(i * 4), value(i));
        }

        return raw;
    }

    private static ushort ToBFloat16(float f)
    {
        // Round to nearest even on the dropped 16 bits, as frameworks convert.
        uint bits = BitConverter.SingleToUInt32Bits(f);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    private static int Report(string scenario, int rawLength, int encodedLength, TimeSpan elapsed)
    {
        TestContext.Out.WriteLine(
            $"scenario {scenario}: {rawLength} -> {encodedLength} bytes ({100.0 * encodedLength / rawLength:F2}%), plan+encode+decode {elapsed.TotalMilliseconds:F0} ms");
        return encodedLength;
    }

    private static int RoundTrip(string scenario, byte[] raw, Func<IBufferWriter<byte>, int> encode, TransformAssert.Decoder decode, Stopwatch clock)
    {
        var writer = new ArrayBufferWriter<byte>();
        int written = encode(writer);
        Assert.That(writer.WrittenCount, Is.EqualTo(written));
        var back = new byte[raw.Length];
        decode(writer.WrittenSpan, back);
        clock.Stop();
        Assert.That(back.AsSpan().SequenceEqual(raw), Is.True, scenario);
        return Report(scenario, raw.Length, written, clock.Elapsed);
    }

    [Test]
    public void DeadBits_F32HoldingBFloat16Values_BecomesBFloat16Stream()
    {
        var random = new Random(1);
        byte[] raw = Floats(_ => BitConverter.UInt32BitsToSingle((uint)ToBFloat16(Weight(random)) << 16));
        var clock = Stopwatch.StartNew();
        Assert.That(DeadBits.TryPlan(raw, DType.F32, out DeadBitsPlan plan), Is.True);
        Assert.That(plan.NarrowDType, Is.EqualTo(DType.BF16));
        int size = RoundTrip("F32 from bf16", raw, w => DeadBits.Encode(raw, plan, w), (e, d) => DeadBits.Decode(e, DType.F32, d), clock);
        Assert.That(size, Is.EqualTo((N * 2) + 2));
    }

    [Test]
    public void DeadBits_F32HoldingHalfValues_BecomesHalfStream()
    {
        var random = new Random(2);
        byte[] raw = Floats(_ => (float)(Half)Weight(random));
        var clock = Stopwatch.StartNew();
        Assert.That(DeadBits.TryPlan(raw, DType.F32, out DeadBitsPlan plan), Is.True);
        Assert.That(plan.Mode, Is.EqualTo(DeadBitsMode.F32AsF16));
        Assert.That(plan.NarrowDType, Is.EqualTo(DType.F16));
        int size = RoundTrip("F32 from fp16", raw, w => DeadBits.Encode(raw, plan, w), (e, d) => DeadBits.Decode(e, DType.F32, d), clock);
        Assert.That(size, Is.EqualTo((N * 2) + 1));
    }

    [Test]
    public void DeadBits_F64HoldingSingles_BecomesF32Stream()
    {
        var random = new Random(3);
        var raw = new byte[N * 8];
        for (int i = 0; i < N; i++)
        {
            BitConverter.TryWriteBytes(raw.AsSpan(i * 8), (double)Weight(random));
        }

        var clock = Stopwatch.StartNew();
        Assert.That(DeadBits.TryPlan(raw, DType.F64, out DeadBitsPlan plan), Is.True);
        Assert.That(plan.NarrowDType, Is.EqualTo(DType.F32));
        int size = RoundTrip("F64 from f32", raw, w => DeadBits.Encode(raw, plan, w), (e, d) => DeadBits.Decode(e, DType.F64, d), clock);
        Assert.That(size, Is.EqualTo((N * 4) + 1));
    }

    [Test]
    public void Palette_Int8PerTensorDequantisedToF32_UsesEightBitIndices()
    {
        var random = new Random(4);
        float scale = 0.0123f;
        byte[] raw = Floats(_ => Math.Clamp((int)Math.Round(Weight(random) / 0.0005), -128, 127) * scale);
        var clock = Stopwatch.StartNew();
        Assert.That(Palette.TryPlan(raw, DType.F32, [1024, 1024], out PalettePlan? plan), Is.True);
        Assert.That(plan!.Parameters.Layout, Is.EqualTo(PaletteLayout.Global));
        Assert.That(plan.Parameters.IndexBits, Is.LessThanOrEqualTo(8));
        Assert.That(plan.Parameters.CodebookEntries, Is.LessThanOrEqualTo(256));
        int size = RoundTrip("INT8 per-tensor -> F32", raw, w => Palette.Encode(raw, plan, w), (e, d) => Palette.Decode(e, DType.F32, d), clock);
        Assert.That(size, Is.LessThanOrEqualTo(N + (256 * 4) + 16));
    }

    [Test]
    public void Palette_Int8PerTensorDequantisedToBFloat16_UsesEightBitIndices()
    {
        var random = new Random(5);
        float scale = 0.0123f;
        var raw = new byte[N * 2];
        for (int i = 0; i < N; i++)
        {
            int code = Math.Clamp((int)Math.Round(Weight(random) / 0.0005), -128, 127);
            BitConverter.TryWriteBytes(raw.AsSpan(i * 2), ToBFloat16(code * scale));
        }

        var clock = Stopwatch.StartNew();
        Assert.That(Palette.TryPlan(raw, DType.BF16, [1024, 1024], out PalettePlan? plan), Is.True);
        Assert.That(plan!.Parameters.IndexBits, Is.LessThanOrEqualTo(8));
        int size = RoundTrip("INT8 per-tensor -> BF16", raw, w => Palette.Encode(raw, plan, w), (e, d) => Palette.Decode(e, DType.BF16, d), clock);
        Assert.That(size, Is.LessThanOrEqualTo(N + (256 * 2) + 16));
    }

    [Test]
    public void Palette_Int4PerRowScalesDequantisedToF32_GroupsByRowWithFourBitIndices()
    {
        var random = new Random(6);
        var scales = new float[1024];
        for (int r = 0; r < scales.Length; r++)
        {
            scales[r] = (float)(0.001 + (0.01 * random.NextDouble()));
        }

        byte[] raw = Floats(i => random.Next(-8, 8) * scales[i / 1024]);
        var clock = Stopwatch.StartNew();
        Assert.That(Palette.TryPlan(raw, DType.F32, [1024, 1024], out PalettePlan? plan), Is.True);
        Assert.That(plan!.Parameters.Layout, Is.EqualTo(PaletteLayout.Grouped));
        Assert.That(plan.Parameters.GroupLength, Is.EqualTo(1024));
        Assert.That(plan.Parameters.IndexBits, Is.EqualTo(4));
        int size = RoundTrip("INT4 per-row -> F32", raw, w => Palette.Encode(raw, plan, w), (e, d) => Palette.Decode(e, DType.F32, d), clock);

        // Half a byte per element plus at most a scale and a short descriptor per row (the affine form).
        Assert.That(size, Is.LessThanOrEqualTo((N / 2) + (1024 * 8) + 16));
    }

    [Test]
    public void Palette_Int4Group128AsymmetricDequantisedToF32_UsesAffineGroups()
    {
        var random = new Random(7);
        float scale = 0;
        int zero = 0;
        byte[] raw = Floats(i =>
        {
            if (i % 128 == 0)
            {
                scale = (float)(0.001 + (0.01 * random.NextDouble()));
                zero = random.Next(0, 16);
            }

            return (random.Next(0, 16) - zero) * scale;
        });

        var clock = Stopwatch.StartNew();
        Assert.That(Palette.TryPlan(raw, DType.F32, [N], out PalettePlan? plan), Is.True);
        Assert.That(plan!.Parameters.Layout, Is.EqualTo(PaletteLayout.Grouped));
        Assert.That(plan.Parameters.GroupLength, Is.EqualTo(128));
        Assert.That(plan.Parameters.CodebookEntries, Is.EqualTo(N / 128), "one scale per group: every group is affine");
        int size = RoundTrip("INT4 g128 asymmetric -> F32", raw, w => Palette.Encode(raw, plan, w), (e, d) => Palette.Decode(e, DType.F32, d), clock);
        Assert.That(size, Is.LessThanOrEqualTo((N / 2) + ((N / 128) * 6) + 16));
    }

    [TestCase(0.5, (byte)ZeroMaskLayout.Bitmap)]
    [TestCase(0.97, (byte)ZeroMaskLayout.Sparse)]
    public void ZeroMask_ShareOfZeros_PicksLayoutAndKeepsNegativeZero(double zeroShare, byte expectedLayout)
    {
        var layout = (ZeroMaskLayout)expectedLayout;
        var random = new Random(8);
        int nonZero = 0;
        byte[] raw = Floats(i =>
        {
            if (random.NextDouble() < zeroShare)
            {
                return i % 1000 == 0 ? -0.0f : 0.0f; // -0.0 is data, not zero
            }

            nonZero++;
            return Weight(random);
        });

        nonZero += N / 1000;
        var clock = Stopwatch.StartNew();
        Assert.That(ZeroMask.TryPlan(raw, DType.F32, out ZeroMaskPlan plan), Is.True);
        Assert.That(plan.Layout, Is.EqualTo(layout));
        Assert.That(plan.NonZeroCount, Is.EqualTo(nonZero).Within(N / 1000));
        int size = RoundTrip($"{zeroShare:P0} zeros F32", raw, w => ZeroMask.Encode(raw, plan, w), (e, d) => ZeroMask.Decode(e, DType.F32, d), clock);
        Assert.That(size, Is.LessThanOrEqualTo((N / 8) + (plan.NonZeroCount * 4) + 16));
    }

    [Test]
    public void IntPack_SortedPositionIdsI64_PackToZeroBitsPerElement()
    {
        var raw = new byte[N * 8];
        for (int i = 0; i < N; i++)
        {
            BitConverter.TryWriteBytes(raw.AsSpan(i * 8), (long)i);
        }

        var clock = Stopwatch.StartNew();
        Assert.That(IntPack.TryPlan(raw, DType.I64, out IntPackPlan plan), Is.True);
        Assert.That(plan.Mode, Is.EqualTo(IntPackMode.Delta));
        Assert.That(plan.Bits, Is.Zero);
        int size = RoundTrip("I64 position ids", raw, w => IntPack.Encode(raw, plan, w), (e, d) => IntPack.Decode(e, DType.I64, d), clock);
        Assert.That(size, Is.EqualTo(18));
    }

    [Test]
    public void IntPack_TokenIdsI32_FrameOfReferenceAtSeventeenBits()
    {
        var random = new Random(9);
        var raw = new byte[N * 4];
        for (int i = 0; i < N; i++)
        {
            BitConverter.TryWriteBytes(raw.AsSpan(i * 4), random.Next(0, 128_000));
        }

        var clock = Stopwatch.StartNew();
        Assert.That(IntPack.TryPlan(raw, DType.I32, out IntPackPlan plan), Is.True);
        Assert.That(plan.Mode, Is.EqualTo(IntPackMode.FrameOfReference));
        Assert.That(plan.Bits, Is.EqualTo(17));
        RoundTrip("I32 token ids < 128000", raw, w => IntPack.Encode(raw, plan, w), (e, d) => IntPack.Decode(e, DType.I32, d), clock);
    }

    [Test]
    public void BoolPack_CausalMask_OneBitPerElement()
    {
        var raw = new byte[N];
        for (int i = 0; i < N; i++)
        {
            raw[i] = (byte)((i % 1024) <= (i / 1024) ? 1 : 0);
        }

        var clock = Stopwatch.StartNew();
        Assert.That(BoolPack.TryPlan(raw, DType.BOOL, out BoolPackPlan plan), Is.True);
        int size = RoundTrip("BOOL causal mask", raw, w => BoolPack.Encode(raw, plan, w), (e, d) => BoolPack.Decode(e, DType.BOOL, d), clock);
        Assert.That(size, Is.EqualTo(N / 8));
    }

    [Test]
    public void DeadBits_F16WithEightDeadBits_BecomesF8E5M2Stream()
    {
        var random = new Random(10);
        var raw = new byte[N * 2];
        for (int i = 0; i < N; i++)
        {
            BitConverter.TryWriteBytes(raw.AsSpan(i * 2), (ushort)(BitConverter.HalfToUInt16Bits((Half)Weight(random)) & 0xFF00));
        }

        var clock = Stopwatch.StartNew();
        Assert.That(DeadBits.TryPlan(raw, DType.F16, out DeadBitsPlan plan), Is.True);
        Assert.That(plan.NarrowDType, Is.EqualTo(DType.F8_E5M2));
        int size = RoundTrip("F16 with fp8 e5m2 values", raw, w => DeadBits.Encode(raw, plan, w), (e, d) => DeadBits.Decode(e, DType.F16, d), clock);
        Assert.That(size, Is.EqualTo(N + 2));
    }

    [Test]
    public void AllTransforms_PlainF32Weights_NoneApplies()
    {
        var random = new Random(11);
        byte[] raw = Floats(_ => Weight(random));
        var clock = Stopwatch.StartNew();
        Assert.That(DeadBits.TryPlan(raw, DType.F32, out _, allowBitPacked: true), Is.False);
        Assert.That(Palette.TryPlan(raw, DType.F32, [1024, 1024], out _), Is.False);
        Assert.That(ZeroMask.TryPlan(raw, DType.F32, out _), Is.False);
        clock.Stop();
        TestContext.Out.WriteLine($"scenario plain F32 weights: no transform, analysis {clock.Elapsed.TotalMilliseconds:F0} ms");
    }
}
