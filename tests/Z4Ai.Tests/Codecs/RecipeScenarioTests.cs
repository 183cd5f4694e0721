using System.Buffers;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Entropy;
using Z4Ai.Planes;

namespace Z4Ai.Tests.Codecs;

/// <summary>
/// The scenarios at 1 MiB: the transform each exists for is the one chosen, the data round-trips, and the
/// result is smaller than zstd at level 19 on the same bytes. Sizes are written to the test output.
/// </summary>
public class RecipeScenarioTests
{
    private const int Bytes = 1 << 20;

    private static IEnumerable<TestCaseData> Scenarios()
    {
        yield return Scenario("dense-bf16", DType.BF16, r => CodecSamples.Bf16(CodecSamples.Weights(Bytes / 2, r)), "fields(BF16)[exponent:shift(256)");
        yield return Scenario("dense-fp32", DType.F32, r => CodecSamples.F32(CodecSamples.Weights(Bytes / 4, r)), "fields(F32)[exponent:shift(256)");
        yield return Scenario("fp32-holding-bf16", DType.F32, r => CodecSamples.F32(CodecSamples.ThroughBf16(CodecSamples.Weights(Bytes / 4, r))), "deadbits(F32->BF16)");
        yield return Scenario("int8-dequant-fp32", DType.F32, r => CodecSamples.F32(CodecSamples.Dequantise(CodecSamples.Weights(Bytes / 4, r), 127, false)), "palette(global");
        yield return Scenario("int8-dequant-bf16", DType.BF16, r => CodecSamples.Bf16(CodecSamples.Dequantise(CodecSamples.Weights(Bytes / 2, r), 127, false)), "palette(global");
        yield return Scenario("int4-row-fp32", DType.F32, r => CodecSamples.F32(CodecSamples.Dequantise(CodecSamples.Weights(Bytes / 4, r), 7, true)), "indices:rans-rows");
        // On BF16 the exponent stream already says which elements are zero, and the zeros' class of the sign+mantissa
        // plane costs next to nothing, so exponent classes beat a separate bitmap; on F32 the bitmap wins.
        yield return Scenario("zeros50-bf16", DType.BF16, r => CodecSamples.Bf16(CodecSamples.Prune(CodecSamples.Weights(Bytes / 2, r), r, 2)), "exponent classes)");
        yield return Scenario("zeros50-fp32", DType.F32, r => CodecSamples.F32(CodecSamples.Prune(CodecSamples.Weights(Bytes / 4, r), r, 2)), "zeromask(bitmap");
        yield return Scenario("xor-1pct-bf16", DType.BF16, r => CodecSamples.SparseXorBf16(Bytes / 2, r, 100), "zeromask(gaps");
    }

    [TestCaseSource(nameof(Scenarios))]
    public void Encode_Scenario_ChoosesItsTransformAndBeatsZstd19(string name, DType dtype, Func<Random, byte[]> build, string expected)
    {
        byte[] raw = build(new Random(name.Length));
        byte[] frame = CodecSamples.Encode(raw, dtype);
        string recipe = CodecSamples.Recipe(frame);
        int zstd = ZstdBackend.Compress(raw, new byte[ZstdBackend.GetMaxCompressedLength(raw.Length)], 19);
        TestContext.Out.WriteLine($"{name}: {raw.Length} -> {frame.Length} ({(double)raw.Length / frame.Length:0.000}x), zstd-19 {(double)raw.Length / zstd:0.000}x, {recipe}");
        Assert.That(recipe, Does.Contain(expected));
        Assert.That(frame.Length, Is.LessThan(zstd));
        Assert.That(CodecSamples.Decode(frame, raw.Length), Is.EqualTo(raw));
    }

    [Test]
    public void Encode_SparseXorStream_ApproachesEntropyOfPositionsAndValues()
    {
        // 1% of 512K bf16 elements changed: the positions cost about log2(C(n, k)) bits, the values about the
        // order-0 entropy of their exponent and mantissa bytes. The frame should be within 15% of that.
        byte[] raw = CodecSamples.SparseXorBf16(Bytes / 2, new Random(1), 100);
        byte[] frame = CodecSamples.Encode(raw, DType.BF16);
        int n = raw.Length / 2;
        var values = new List<byte>();
        for (int i = 0; i < n; i++)
        {
            if (raw[2 * i] != 0 || raw[(2 * i) + 1] != 0)
            {
                values.Add(raw[2 * i]);
                values.Add(raw[(2 * i) + 1]);
            }
        }

        int k = values.Count / 2;
        double positions = LogBinomial(n, k);
        byte[] v = [.. values];
        byte[] exponents = new byte[k];
        byte[] mantissas = new byte[k];
        FloatFields.Split(DType.BF16, v, exponents, mantissas);
        double bound = (positions + EntropyStats.Order0Bits(exponents) + EntropyStats.Order0Bits(mantissas)) / 8;
        TestContext.Out.WriteLine($"xor 1%: {frame.Length} bytes, bound {bound:0} bytes ({frame.Length / bound:0.000}x), {CodecSamples.Recipe(frame)}");
        Assert.That(frame.Length, Is.LessThan(bound * 1.15));
    }

    [Test]
    public void Encode_DenseBf16_ExponentsGoBelowTheOrderZeroBoundWithRows()
    {
        byte[] raw = CodecSamples.Bf16(CodecSamples.Weights(64 * 1024, new Random(3)));
        int n = raw.Length / 2;
        byte[] exponents = new byte[n];
        byte[] mantissas = new byte[n];
        FloatFields.Split(DType.BF16, raw, exponents, mantissas);
        double order0 = EntropyStats.Order0Bits(exponents) / 8;
        long ExponentBytes(CompressionEffort effort, int rowLength)
        {
            var streams = new List<StreamBreakdown>();
            RecipeInspector.Inspect(CodecSamples.Encode(raw, DType.BF16, effort, rowLength), streams);
            return streams.Where(s => s.Path.Contains("/exponent", StringComparison.Ordinal)).Sum(s => s.EncodedBytes);
        }

        long flat = ExponentBytes(CompressionEffort.Fast, 0);
        long rows = ExponentBytes(CompressionEffort.Fast, CodecSamples.Columns);
        long max = ExponentBytes(CompressionEffort.Max, CodecSamples.Columns);
        TestContext.Out.WriteLine($"exponent: order-0 bound {order0:0} bytes, fast {flat}, fast with rows {rows}, max {max}");
        Assert.That(flat, Is.LessThan(order0 * 1.01));

        // The rows have their own scales: aligning each row's exponents (a shift per row) beats the static order-0
        // table of the whole stream, and the context model, which also sees the row, beats that.
        Assert.That(rows, Is.LessThan(order0));
        Assert.That(max, Is.LessThan(rows));
    }

    private static double LogBinomial(int n, int k)
    {
        double bits = 0;
        for (int i = 0; i < k; i++)
        {
            bits += Math.Log2((double)(n - i) / (i + 1));
        }

        return bits;
    }

    private static TestCaseData Scenario(string name, DType dtype, Func<Random, byte[]> build, string expected) =>
        new TestCaseData(name, dtype, build, expected).SetArgDisplayNames(name);
}
